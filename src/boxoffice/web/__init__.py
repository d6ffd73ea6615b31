"""Server-rendered pages: the buyer's shop (``shop/``) and the organizer's control panel (``control/``).

Pages call the same service layer as the API, never the API itself. Each request is one unit of work
that commits before the response is sent; a POST that succeeds answers 303 to a page (post/redirect/get),
one that a domain error refuses renders the form again with the error next to it, nothing changed.
"""
