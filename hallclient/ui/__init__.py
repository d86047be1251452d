"""Qt widgets only; every rule they show comes from hallcore.domain and hallclient.forms."""
