"""Who may do what: API keys and their roles, authenticating a request, rate limits.

It may import ``infoshare.service.store`` (keys live in the log's database)
and the package's top modules; never the API.
"""
