"""The address the platform sends customers' emails from (confirmations, cancellations): an SES identity.

SES sends from an identity only once it is verified: AWS mails a link to the address when the stack creates it.
A new account's SES is also in its sandbox (recipients must be verified too) until production access is granted.
"""

from __future__ import annotations

from aws_cdk import aws_ses as ses
from constructs import Construct


class Email(Construct):
    def __init__(self, scope: Construct, id: str, *, sender: str) -> None:
        super().__init__(scope, id)
        self.sender = sender
        self.identity = ses.EmailIdentity(self, "Sender", identity=ses.Identity.email(sender))
