// A provider's answer posted from its own site carries none of NetID's cookies; posted again from NetID's page, it does.
document.getElementById('federation-continue').submit();
