"""{{ cookiecutter.description | wordwrap(100) }}"""
