"""SMPP delivery receipts: the text of a carrier's ``deliver_sm``, and its TLVs.

For applications that connect to an SMSC over SMPP rather than receiving the
SMS API's webhook. The record shares the receipt's vocabulary (``status`` is a
:class:`~dlrkit.DlrStatus`, ``err_code`` an ``int``), so ``dlrkit.classify``
accepts it.
"""

from ._receipt import SmppReceipt, normalize_smpp_id, parse_smpp_receipt, smpp_ids_match

__all__ = ["SmppReceipt", "normalize_smpp_id", "parse_smpp_receipt", "smpp_ids_match"]
