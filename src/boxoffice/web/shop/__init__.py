"""The buyer's pages: the event shop, checkout, the order page with payment, and the receipt."""
