from beuwi.search.answer_cache import AnswerCache


def test_least_recently_used_answers_go_first_when_the_budget_is_spent():
    cache = AnswerCache(max_bytes=10)
    cache.put("v1", "a", b"aaaa")
    cache.put("v1", "b", b"bbbb")
    assert cache.get("v1", "a") == b"aaaa"  # now the most recently used
    cache.put("v1", "c", b"cccc")
    assert (cache.get("v1", "a"), cache.get("v1", "b"), cache.get("v1", "c")) == (b"aaaa", None, b"cccc")


def test_an_answer_over_the_budget_is_not_kept():
    cache = AnswerCache(max_bytes=3)
    cache.put("v1", "a", b"aaaa")
    assert cache.get("v1", "a") is None and len(cache) == 0


def test_a_new_catalogue_version_empties_the_cache():
    cache = AnswerCache(max_bytes=100)
    cache.put("v1", "a", b"old")
    assert cache.get("v2", "a") is None
    cache.put("v2", "b", b"new")
    assert (cache.get("v1", "a"), cache.get("v2", "b"), len(cache)) == (None, b"new", 1)
