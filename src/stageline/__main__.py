from stageline.cli import main

main()
