"""The Banco Central's API Pix, as plain Python: BR Codes, txids, the API's documents, the webhook and a client.

Nothing here imports AWS: the saga's adapter, the local PSP and the tests all build on these modules.
"""
