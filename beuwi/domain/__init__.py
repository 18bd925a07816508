"""The pure core: subjects, requirements and eligibility rules. Imports only the standard library."""
from .eligibility import Check, Profile, Route, checks, eligible, is_eligible, reasons, route, unmet
from .matching import Candidate, Match, NearMiss, Suggestion, candidates, match, rank, referenced
from .programme import Combination, Programme, Requirements, Scheme, parse_combination, requirement_ref
from .subjects import LEVELS, PASS_LEVELS, Subject, SubjectError, SubjectList, SubjectRef

__all__ = [
    "LEVELS", "PASS_LEVELS", "Candidate", "Check", "Combination", "Match", "NearMiss", "Profile", "Programme",
    "Requirements", "Route", "Scheme", "Subject", "SubjectError", "SubjectList", "SubjectRef", "Suggestion",
    "candidates", "checks", "eligible", "is_eligible", "match", "parse_combination", "rank", "reasons",
    "referenced", "requirement_ref", "route", "unmet",
]
