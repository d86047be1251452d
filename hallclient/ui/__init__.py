"""Qt widgets only; every rule they show comes from hallclient.domain and hallclient.forms."""
