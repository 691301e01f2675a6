from gptoss_ft.cli import main

main()
