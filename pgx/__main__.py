from pgx.cli.main import main

main()
