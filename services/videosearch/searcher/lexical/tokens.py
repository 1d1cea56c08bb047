"""Tokens of span text and queries, with their place in the text (for phrases and highlights).

English (and other Latin-script text) is split into words, case-folded (``str.casefold``) and
lightly stemmed (plural -s/-es/-ies, -ing, -ed, possessive 's), so "budgets" finds "budget" and
"Discussed" finds "discuss". Chinese runs are segmented into words by jieba (its shipped
dictionary; pinned in requirements.txt); a word of three or more characters also indexes the
dictionary words inside it at the same position (jieba's search mode), so "出口" finds "出口处".
Very common words (a short stop list per language) take a position but are not indexed, so a
phrase keeps its gaps and "the" matches nothing on its own.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from dataclasses import dataclass

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef"
_RUNS = re.compile(rf"([{_CJK}]+)|([^\W_]+(?:['’][^\W_]+)*)")
_ENGLISH_STOP = frozenset(
    """a an and are as at be but by for from has have he her his i in is it its of on or our
she so that the their them they this to was we were what when where which who will with you your""".split()
)
_CHINESE_STOP = frozenset("的 了 在 是 和 与 就 都 而 及 着 或 一个 我 你 他 她 它 们 这 那 吗 呢 吧 啊".split())


@dataclass(frozen=True)
class Token:
    """One indexed word: its normalized ``term``, its characters [start, end) in the text
    (code points) and ``position``, its ordinal among the text's words (sub-words of a long
    Chinese word share its position)."""

    term: str
    start: int
    end: int
    position: int


@functools.lru_cache(maxsize=1 << 18)
def stem(word: str) -> str:
    """A light English stemmer: enough to fold plurals and regular verb endings together,
    never so much that unrelated words meet (no Porter-style suffix stripping)."""
    if word.endswith(("'s", "’s")):
        word = word[:-2]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("sses", "shes", "ches", "xes", "zes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    for suffix, keep in (("ing", 3), ("ed", 3)):
        if len(word) > len(suffix) + keep and word.endswith(suffix):
            base = word[: -len(suffix)]
            if len(base) > 2 and base[-1] == base[-2] and base[-1] not in "lsz":
                base = base[:-1]  # running -> run, stopped -> stop (but spelled -> spell)
            return base
    return word


_jieba_lock = threading.Lock()
_jieba = None


def _segmenter():
    """jieba, loaded once (its dictionary takes about a second the first time)."""
    global _jieba
    with _jieba_lock:
        if _jieba is None:
            import jieba

            jieba.setLogLevel(logging.WARNING)
            jieba.initialize()
            _jieba = jieba
    return _jieba


def _chinese_words(run: str) -> list[tuple[str, int, int, bool]]:
    """(word, start, end, is_sub_word) within a run of Chinese characters."""
    jieba = _segmenter()
    out = []
    for word, start, end in jieba.tokenize(run, HMM=True):
        out.append((word, start, end, False))
        if len(word) > 2:
            for size in (2, 3):
                for at in range(len(word) - size + 1):
                    sub = word[at : at + size]
                    if sub != word and jieba.dt.FREQ.get(sub):
                        out.append((sub, start + at, start + at + size, True))
    return out


def tokenize(text: str) -> list[Token]:
    """The indexed tokens of ``text`` in order, stop words left out (they still take a position)."""
    return [Token(*found) for found in scan(text)]


def scan(text: str) -> list[tuple[str, int, int, int]]:
    """What :func:`tokenize` finds as plain (term, start, end, position) tuples: the index's
    fast path (building a Token per word costs a third of indexing a span)."""
    tokens: list[tuple[str, int, int, int]] = []
    position = -1
    for match in _RUNS.finditer(text):
        chinese = match.group(1)
        if chinese:
            base = match.start(1)
            for word, start, end, is_sub in _chinese_words(chinese):
                if not is_sub:
                    position += 1
                if word not in _CHINESE_STOP:
                    tokens.append((word, base + start, base + end, position))
        else:
            position += 1
            word = match.group(2).casefold()
            if word not in _ENGLISH_STOP:
                tokens.append((stem(word), match.start(2), match.end(2), position))
    return tokens


@dataclass(frozen=True)
class ParsedQuery:
    """A text query for the lexical index: its distinct terms (each phrase's too), its exact
    phrases, each a tuple of (term, offset from the phrase's first word), and its words in
    order as (term, position), sub-words left out (for the match quality of a span), and
    ``surfaces``: (term, the word as written, case-folded) where stemming changed it (a
    misheard "mornng" is near "morning", not its stem "morn"). ``joined``: (term, the word as
    written, it run together with the stop word before or after it), for a recognizer that heard
    the two as one word ("enapontment" for "an appointment")."""

    terms: tuple[str, ...]
    phrases: tuple[tuple[tuple[str, int], ...], ...]
    words: tuple[tuple[str, int], ...] = ()
    surfaces: tuple[tuple[str, str], ...] = ()
    joined: tuple[tuple[str, str, str], ...] = ()


_PHRASE = re.compile(r"[\"“”]([^\"“”]+)[\"“”]")


def parse_query(text: str) -> ParsedQuery:
    """Words anywhere count as terms; text between double quotes ("..." or “...”) must also
    appear as that exact phrase (same words in order; stop words are gaps of one word)."""
    phrases = []
    for match in _PHRASE.finditer(text):
        tokens = tokenize(match.group(1))
        primary = [t for t in tokens if not _is_sub_word(t, tokens)]
        if len(primary) > 1:
            first = primary[0].position
            phrases.append(tuple((t.term, t.position - first) for t in primary))
    spaced = _PHRASE.sub(lambda m: f" {m.group(1)} ", text)
    tokens = tokenize(spaced)
    terms = tuple(dict.fromkeys(t.term for t in tokens))
    words = tuple((t.term, t.position) for t in tokens if not _is_sub_word(t, tokens))
    surfaces = tuple(
        dict.fromkeys((t.term, surface) for t in tokens if (surface := spaced[t.start : t.end].casefold()) != t.term)
    )
    return ParsedQuery(terms, tuple(phrases), words, surfaces, _joined_with_stop_words(spaced))


def _joined_with_stop_words(text: str) -> tuple[tuple[str, str, str], ...]:
    """(term, the word as written, it and its neighbouring stop word run together) for each
    Latin-script indexed word of ``text`` beside an English stop word: "an appointment" gives
    ("appointment", "appointment", "anappointment")."""
    words = [match.group(2).casefold() if match.group(2) else "" for match in _RUNS.finditer(text)]
    out: dict[tuple[str, str, str], None] = {}
    for at, word in enumerate(words):
        if not word or word in _ENGLISH_STOP:
            continue
        if at > 0 and words[at - 1] in _ENGLISH_STOP:
            out[(stem(word), word, words[at - 1] + word)] = None
        if at + 1 < len(words) and words[at + 1] in _ENGLISH_STOP:
            out[(stem(word), word, word + words[at + 1])] = None
    return tuple(out)


def _is_sub_word(token: Token, tokens: list[Token]) -> bool:
    """True for a sub-word of a longer Chinese word at the same position."""
    return any(
        other.position == token.position
        and other.start <= token.start
        and other.end >= token.end
        and (other.end - other.start) > (token.end - token.start)
        for other in tokens
    )


def without_terms(text: str, terms: frozenset[str] | set[str]) -> str | None:
    """``text`` with the words whose term is in ``terms`` taken out (their characters, a Chinese
    word's sub-words with it; quote marks dropped), or None when no indexed word is left
    ("a red circle EXIT" without {exit}: "a red circle"; without {red, circle, exit}: None)."""
    tokens = tokenize(text)
    cut = [(t.start, t.end) for t in tokens if t.term in terms and not _is_sub_word(t, tokens)]
    if not cut:
        return text
    kept, at = [], 0
    for start, end in sorted(cut):
        kept.append(text[at:start])
        at = max(at, end)
    kept.append(text[at:])
    left = " ".join(_PHRASE_MARKS.sub(" ", "".join(kept)).split())
    return left if tokenize(left) else None


_PHRASE_MARKS = re.compile(r"[\"“”]")
