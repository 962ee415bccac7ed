from laura.cli import app

app()
