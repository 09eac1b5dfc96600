"""The live single window's work, between the routes and the database.

``submission`` takes one CEB message from its party and answers it with receipts; ``sets``
ties documents into declarations, reconciles complete sets and keeps the buyers' annual quota;
``answers`` records the receipts; ``history`` reads declarations back for their parties.
"""
