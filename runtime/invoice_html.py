"""The nota fiscal as a person reads it: one self-contained HTML page, stored beside the order, printable.

It is a simplified summary in the spirit of the DANFE, not an NF-e: nothing here is signed or authorized by SEFAZ, and
the page says so. The domain decides what the invoice says (`domain.invoice_document.InvoiceContent`); this draws it,
and gives the same bytes for the same content: nothing in it comes from the clock or from chance.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo
from html import escape
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.invoice_document import InvoiceContent
from domain.values import Money


def _brazil_time() -> tzinfo:
    try:
        return ZoneInfo("America/Sao_Paulo")
    except ZoneInfoNotFoundError:
        # Slim images may lack tzdata. Brazil dropped daylight saving in 2019, so -03:00 is right for any sale since.
        return timezone(timedelta(hours=-3), "BRT")


_BRAZIL_TIME = _brazil_time()

_STYLE = """
@page { size: A4; margin: 15mm; }
* { box-sizing: border-box; }
body { font-family: Arial, Helvetica, sans-serif; font-size: 12px; color: #111; margin: 0 auto; max-width: 800px;
       padding: 16px; }
header { display: flex; justify-content: space-between; align-items: flex-start; border: 1px solid #111;
         padding: 8px 12px; }
h1 { font-size: 20px; margin: 0; }
h2 { font-size: 12px; text-transform: uppercase; margin: 0 0 4px; }
.notice { font-size: 10px; margin: 4px 0 0; }
.meta { text-align: right; }
.meta p { margin: 2px 0; }
section { border: 1px solid #111; border-top: none; padding: 8px 12px; }
section p { margin: 2px 0; }
table { width: 100%; border-collapse: collapse; }
th, td { border: 1px solid #999; padding: 4px 6px; text-align: left; vertical-align: top; }
th { background: #eee; font-size: 10px; text-transform: uppercase; }
.number { text-align: right; white-space: nowrap; }
tfoot td { font-weight: bold; border-top: 2px solid #111; }
@media print { body { padding: 0; max-width: none; } th { background: none; } }
"""


def brl(money: Money) -> str:
    """The amount as Brazilians write it: R$ 189.900,00."""
    # Decimal's own grouping, with the separators swapped: no locale, whose settings would differ between machines.
    whole, cents = f"{money.amount:,.2f}".split(".")
    return f"R$ {whole.replace(',', '.')},{cents}"


def _brazil_datetime(moment: datetime) -> str:
    if moment.tzinfo is None:
        # Read in the machine's own zone, a naive time would print differently wherever the page was rendered.
        raise ValueError("invoice times must be timezone-aware")
    return moment.astimezone(_BRAZIL_TIME).strftime("%d/%m/%Y %H:%M")


class HtmlInvoiceRenderer:
    """The domain's InvoiceRenderer port, drawing HTML."""

    def render(self, invoice: InvoiceContent) -> str:
        return _page(invoice)


def _page(invoice: InvoiceContent) -> str:
    """The invoice as a complete HTML5 page; every text that came from a person is escaped."""
    rows = "\n".join(
        "<tr>"
        f"<td>{escape(line.code)}</td>"
        f"<td>{escape(line.description)}</td>"
        f'<td class="number">{line.quantity}</td>'
        f'<td class="number">{brl(line.unit_price)}</td>'
        f'<td class="number">{brl(line.total)}</td>'
        "</tr>"
        for line in invoice.lines
    )
    return f"""<!DOCTYPE html>
<html lang="pt-BR">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Nota Fiscal Nº {escape(invoice.number)} - {escape(invoice.seller.name)}</title>
<style>{_STYLE}</style>
</head>
<body>
<header>
<div>
<h1>Nota Fiscal</h1>
<p class="notice">Documento simplificado, sem valor fiscal: resumo da venda no formato do DANFE.</p>
</div>
<div class="meta">
<p><strong>Nº {escape(invoice.number)}</strong></p>
<p>Emissão: {_brazil_datetime(invoice.issued_at)}</p>
</div>
</header>
<section>
<h2>Emitente</h2>
<p><strong>{escape(invoice.seller.name)}</strong></p>
<p>CNPJ: {escape(str(invoice.seller.cnpj))}</p>
<p>{escape(invoice.seller.address)}</p>
</section>
<section>
<h2>Destinatário</h2>
<p><strong>{escape(invoice.buyer.name)}</strong></p>
<p>CPF: {escape(str(invoice.buyer.cpf))}</p>
<p>E-mail: {escape(str(invoice.buyer.email))}</p>
<p>{escape(str(invoice.buyer.address))}</p>
</section>
<section>
<h2>Pedido</h2>
<p>Pedido: {escape(invoice.order_id)}</p>
<p>Data do pedido: {_brazil_datetime(invoice.ordered_at)}</p>
</section>
<section>
<h2>Itens</h2>
<table>
<thead>
<tr><th>Código</th><th>Descrição</th><th class="number">Quantidade</th><th class="number">Valor unitário</th>
<th class="number">Valor total</th></tr>
</thead>
<tbody>
{rows}
</tbody>
<tfoot>
<tr><td colspan="4">Valor total da nota</td><td class="number">{brl(invoice.total)}</td></tr>
</tfoot>
</table>
</section>
</body>
</html>
"""
