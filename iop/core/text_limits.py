"""How long free text may be: one limit per kind of text, used by the forms (which also give the
browser a `maxlength`) and the API serializers alike, so both refuse the same input with a clear
message. Enforced at the edges rather than as column sizes: the columns stay TEXT."""

# A reason or explanation in prose: why a person is referred, why a record is attached or a chart
# opened in an emergency, why a level was overridden, how a patient revoked a consent.
REASON_MAX = 2000
# A free note kept with a record: eligibility notes, a referral's closing detail, an admission
# note, what a Part 2 consent discloses.
NOTE_MAX = 2000
