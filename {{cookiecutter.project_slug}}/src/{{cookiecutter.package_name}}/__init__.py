{{ cookiecutter.description | python_docstring }}

from . import deferred_patterns

# The project's name: the API's title.
TITLE = {{ cookiecutter.project_name | python_string }}

# Here, before any module of the package imports marshmallow.
deferred_patterns.install()
