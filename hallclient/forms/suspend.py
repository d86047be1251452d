"""The suspend form."""

from hallclient.domain.business import BusinessKind
from hallclient.domain.text import Text
from hallclient.forms.spec import form

FORM = form(BusinessKind.SUSPEND, "F5", resume_on=Text(
    "可不填；最长 180 天", "optional; at most 180 days"))
