"""The kit shared by wrappers over a remote source (see DESIGN.md): what every such
wrapper must decide the same way, kept in one place so that they cannot drift apart.

    options       option values (booleans), unknown names refused, the row identity's
                  names (rowid_column, alias primary_key)
    rowid         which column identifies a remote row for UPDATE/DELETE
    identity      who a connection is made for (superuser or not)
    secrets       credentials blanked out of messages
    errors        a remote error as an FdwError (SQLSTATE, detail, hint, remote SQL)
    transactions  the Multicorn transaction hooks forwarded to the remote transaction
    pushdown      the accepted prefix of sort keys
    collation     the local collation, and which collations order text alike
"""
