"""The address customers' emails come from: the local stack verifies it, the CDK app's default, the settings' too."""

from __future__ import annotations

SES_SENDER = "vendas@concessionaria.example.com"
