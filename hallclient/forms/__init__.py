"""Business forms: one module per business type, declared once and shown by hallclient.ui."""

from hallclient.forms import (
    close_account,
    contact_change,
    new_connection,
    rename,
    resume,
    suspend,
    transfer,
)
from hallclient.forms.spec import FormSpec
from hallcore.domain.business import BusinessKind

FORMS: dict[BusinessKind, FormSpec] = {
    module.FORM.kind: module.FORM
    for module in (transfer, rename, suspend, resume, close_account, contact_change,
                   new_connection)
}
