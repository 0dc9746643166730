from byline.interfaces.cli import main

main()
