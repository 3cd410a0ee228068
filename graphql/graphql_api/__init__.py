"""The GraphQL API: a Strawberry ASGI app, served by uvicorn locally and by Mangum on AWS Lambda.

It lives in `graphql/graphql_api` so that the import name `graphql` always stays graphql-core's.
"""
