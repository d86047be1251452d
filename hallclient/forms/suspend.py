"""The suspend form."""

from hallclient.forms.spec import form
from hallcore.domain.business import MAX_SUSPENSION, BusinessKind
from hallcore.domain.text import Text

# A planned resumption is after today (the domain refuses today or earlier), and within the
# longest suspension, which the rule check enforces when the request is recorded.
FORM = form(BusinessKind.SUSPEND, "F5", first_day={"resume_on": 1},
            resume_on=Text("最长 {n} 天", "at most {n} days").format(n=MAX_SUSPENSION.days))
