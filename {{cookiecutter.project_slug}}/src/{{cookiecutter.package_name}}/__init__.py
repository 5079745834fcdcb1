{{ cookiecutter.description | python_docstring }}

# The project's name: the API's title.
TITLE = {{ cookiecutter.project_name | python_string }}
