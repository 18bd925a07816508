"""The pure core: subjects, requirements and eligibility rules. Imports only the standard library."""
from .eligibility import Profile, is_eligible, reasons, unmet
from .matching import Match, NearMiss, Suggestion, match
from .programme import Combination, Programme, Requirements, parse_combination, requirement_ref
from .subjects import LEVELS, Subject, SubjectError, SubjectList, SubjectRef

__all__ = [
    "LEVELS", "Combination", "Match", "NearMiss", "Profile", "Programme", "Requirements", "Subject",
    "SubjectError", "SubjectList", "SubjectRef", "Suggestion", "is_eligible", "match", "parse_combination",
    "reasons", "requirement_ref", "unmet",
]
