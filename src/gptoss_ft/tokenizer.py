"""The gpt-oss tokenizer, built offline from registry packages, and tokenizer loading for recipes.

gpt-oss uses OpenAI's `o200k_harmony` encoding: the `o200k_base` BPE ranks (ids 0-199997) plus the
harmony special tokens (ids 199998-201087). The ranks come from the `bpe-openai` wheel, so building
needs neither the model hub nor tiktoken's download. The chat template is TRL's copy of the
original gpt-oss template, which TRL recognises and swaps for its `{% generation %}` variant when
`assistant_only_loss=True`.

transformers is imported inside the functions, so importing this module stays cheap.
"""

from __future__ import annotations

import base64
import gzip
import importlib.util
import logging
import os
import shutil
import tempfile
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from gptoss_ft.cli.errors import UserError

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerFast

    from gptoss_ft.recipe import Recipe

logger = logging.getLogger(__name__)

# Pre-tokenizer pattern of the o200k_base encoding, as bpe-openai 0.1.4 defines it in
# bpe_openai/registry.py. The tests compare the resulting ids with openai-harmony's.
O200K_PATTERN = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)

O200K_BASE_SIZE = 199998  # mergeable ranks 0-199997

# Named harmony special tokens, with the ids that openai-harmony 0.0.8 assigns.
HARMONY_NAMED_TOKENS = {
    "<|startoftext|>": 199998,
    "<|endoftext|>": 199999,
    "<|return|>": 200002,
    "<|constrain|>": 200003,
    "<|channel|>": 200005,
    "<|start|>": 200006,
    "<|end|>": 200007,
    "<|message|>": 200008,
    "<|call|>": 200012,
}

# gpt-oss's embedding has 201088 rows, the vocab_size of the released configs. openai-harmony 0.0.8
# also defines <|reserved_201088|>, which no model can embed, so it is left out.
GPTOSS_VOCAB_SIZE = 201088

# <|return|> ends the last assistant message of a rendered conversation, so it is the
# end-of-sequence token. <|endoftext|> pads.
BOS_TOKEN = "<|startoftext|>"
EOS_TOKEN = "<|return|>"
PAD_TOKEN = "<|endoftext|>"
MODEL_MAX_LENGTH = 131072

# Bump when the built tokenizer changes, so that older caches are rebuilt instead of reused.
CACHE_FORMAT = "o200k_harmony-1"


def harmony_special_tokens() -> dict[str, int]:
    """Return every harmony special token with its id: the named ones and <|reserved_N|> for the rest."""
    named_ids = set(HARMONY_NAMED_TOKENS.values())
    tokens = dict(HARMONY_NAMED_TOKENS)
    for token_id in range(O200K_BASE_SIZE, GPTOSS_VOCAB_SIZE):
        if token_id not in named_ids:
            tokens[f"<|reserved_{token_id}|>"] = token_id
    return dict(sorted(tokens.items(), key=lambda item: item[1]))


def _package_file(package: str, *parts: str) -> Path | None:
    """Return a file inside an installed package without importing the package, or None.

    Importing bpe_openai reads all of its vocabularies (about 0.5 s), and importing trl takes seconds.
    """
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)), *parts)


def read_o200k_ranks() -> dict[bytes, int]:
    """Read the o200k_base BPE ranks (token bytes to rank) from the bpe-openai wheel."""
    path = _package_file("bpe_openai", "data", "o200k_base.tiktoken.gz")
    if path is None or not path.is_file():
        raise UserError(
            "the o200k vocabulary of gpt-oss is missing; install it with `pip install bpe-openai==0.1.4`"
        )
    ranks = {}
    with gzip.open(path, "rb") as lines:
        for line in lines:
            if line.strip():
                token, rank = line.split()
                ranks[base64.b64decode(token)] = int(rank)
    if len(ranks) != O200K_BASE_SIZE:
        raise UserError(
            f"{path} has {len(ranks)} tokens, expected {O200K_BASE_SIZE}; reinstall bpe-openai==0.1.4"
        )
    return ranks


def gptoss_chat_template() -> str:
    """Return TRL's gpt-oss chat template, trl/chat_templates/gptoss.jinja."""
    path = _package_file("trl", "chat_templates", "gptoss.jinja")
    if path is None or not path.is_file():
        raise UserError("the gpt-oss chat template is missing; install trl==1.16.0, which ships it")
    return path.read_text(encoding="utf-8")


def build_gptoss_tokenizer() -> PreTrainedTokenizerFast:
    """Build the o200k_harmony tokenizer from the bpe-openai wheel (about 5 s on a 2-core CPU)."""
    from tokenizers import AddedToken  # noqa: PLC0415 - the training stack loads lazily
    from transformers import PreTrainedTokenizerFast  # noqa: PLC0415
    from transformers.convert_slow_tokenizer import TikTokenConverter  # noqa: PLC0415

    ranks = read_o200k_ranks()

    class _WheelRanksConverter(TikTokenConverter):
        # TikTokenConverter reads the ranks through tiktoken, which is not installed, so hand them over.
        @staticmethod
        def load_tiktoken_bpe(tiktoken_url: str) -> dict[bytes, int]:  # noqa: ARG004
            return ranks

    backend = _WheelRanksConverter(vocab_file="o200k_base", pattern=O200K_PATTERN).converted()
    specials = harmony_special_tokens()
    # The specials are added in id order with no gaps, so each gets the next free id, which is its
    # harmony id. The loop below checks that.
    backend.add_special_tokens([AddedToken(token, normalized=False, special=True) for token in specials])
    for token, expected_id in specials.items():
        actual_id = backend.token_to_id(token)
        if actual_id != expected_id:
            raise RuntimeError(f"built tokenizer gives {token} id {actual_id}, expected {expected_id}")

    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        bos_token=BOS_TOKEN,
        eos_token=EOS_TOKEN,
        pad_token=PAD_TOKEN,
        model_max_length=MODEL_MAX_LENGTH,
    )


def tokenizer_cache_dir() -> Path:
    """Return the folder that caches the built tokenizer, under $XDG_CACHE_HOME or ~/.cache."""
    cache_root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    version = metadata.version("transformers")
    return cache_root / "gptoss-ft" / f"tokenizer-{CACHE_FORMAT}-transformers{version}"


def _has_expected_specials(tokenizer: PreTrainedTokenizerFast) -> bool:
    return len(tokenizer) == GPTOSS_VOCAB_SIZE and all(
        tokenizer.convert_tokens_to_ids(token) == token_id for token, token_id in HARMONY_NAMED_TOKENS.items()
    )


def load_gptoss_tokenizer(cache_dir: Path | None = None) -> PreTrainedTokenizerFast:
    """Load the o200k_harmony tokenizer from the cache, building and caching it when missing.

    The chat template is set from the installed TRL on every load rather than cached, because TRL
    swaps in its training template only for an exact copy of its own gptoss.jinja.
    """
    from transformers import PreTrainedTokenizerFast  # noqa: PLC0415

    cache_dir = cache_dir or tokenizer_cache_dir()
    tokenizer = None
    if (cache_dir / "tokenizer.json").is_file():
        try:
            tokenizer = PreTrainedTokenizerFast.from_pretrained(cache_dir)
        except (OSError, ValueError) as exc:
            logger.warning("Cached tokenizer in %s is unreadable (%s); rebuilding it", cache_dir, exc)
        if tokenizer is not None and not _has_expected_specials(tokenizer):
            logger.warning("Cached tokenizer in %s has unexpected special tokens; rebuilding it", cache_dir)
            tokenizer = None

    if tokenizer is None:
        logger.info("Building the gpt-oss tokenizer (o200k_harmony) from the bpe-openai wheel")
        tokenizer = build_gptoss_tokenizer()
        _save_atomically(tokenizer, cache_dir)

    tokenizer.chat_template = gptoss_chat_template()
    return tokenizer


def _save_atomically(tokenizer: PreTrainedTokenizerFast, cache_dir: Path) -> None:
    """Save into a temporary sibling folder, then rename it, so that readers never see half a cache.

    Several processes (one per GPU) may build at once: the first rename wins and the others drop
    their copy. A cache that cannot be written only costs a rebuild next time, so it is logged.
    """
    staging = None
    try:
        cache_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{cache_dir.name}.", dir=cache_dir.parent))
        tokenizer.save_pretrained(staging)
    except OSError as exc:
        logger.warning("Cannot cache the tokenizer in %s (%s); it will be rebuilt next time", cache_dir, exc)
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        return
    if cache_dir.exists():
        shutil.rmtree(cache_dir, ignore_errors=True)
    try:
        staging.rename(cache_dir)
        logger.info("Cached the tokenizer in %s", cache_dir)
    except OSError:
        # Another process renamed its copy first.
        shutil.rmtree(staging, ignore_errors=True)


def load_tokenizer(recipe: Recipe) -> PreTrainedTokenizerFast:
    """Load the tokenizer for a recipe: from model.id (hub or local path), or the built gpt-oss one."""
    if recipe.model.id is None:
        return load_gptoss_tokenizer()

    from transformers import AutoTokenizer  # noqa: PLC0415

    try:
        tokenizer = AutoTokenizer.from_pretrained(recipe.model.id)
    except OSError as exc:
        raise UserError(
            f"cannot load the tokenizer of model.id {recipe.model.id!r}: {exc}. "
            "Check the id or path, and set HF_TOKEN for a gated model"
        ) from None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = PAD_TOKEN
    return tokenizer
