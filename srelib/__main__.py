from srelib.cli import main

main()
