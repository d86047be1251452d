"""The transfer form."""

from hallclient.forms.spec import form
from hallcore.domain.business import BusinessKind
from hallcore.domain.text import Text

FORM = form(BusinessKind.TRANSFER, "F3",
            current_from_account={"new_holder_name": "holder_name"},
            # Not stated, the transfer turns SMS notices off: the new holder is asked.
            must_answer=frozenset({"new_holder_sms_consent"}),
            new_holder_phone=Text("新户主的手机，用于短信通知",
                                  "the new holder's mobile, for SMS notices"))
