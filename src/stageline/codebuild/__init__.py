"""CodeBuild on stageline: build projects, builds and reports, run with the buildspec runner.

:mod:`~stageline.codebuild.service` keeps the resources and serves the API's
operations; :mod:`~stageline.codebuild.execute` runs one build of a project;
:mod:`~stageline.codebuild.runner` runs the builds StartBuild asks for.
"""
