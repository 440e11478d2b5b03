from convoledger.cli import main

main()
