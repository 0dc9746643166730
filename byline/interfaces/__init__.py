"""Interfaces: the command line, the REST API and web page, batch and cluster runners."""
