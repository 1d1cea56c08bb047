"""Everyday English sentences for training the demo speech recognizer (train_speech ``--sentences everyday``).

Random word sequences teach a recognizer every word's sound but not how words run together in
real sentences ("and eggs", "i am away", "the museum will"): espeak-ng links and shortens words
in a sentence as it does not between unrelated ones. These sentences come from a small grammar
(subject, verb, object, place, time; statements, questions, requests) over everyday words, with
the nouns sometimes replaced by any frequent word of 6 letters or more so long words are heard in
sentences too. The lists are generic: none was built from the bench's or the probe's sentences
(those are held out by train_speech whatever the generator makes).
"""

from __future__ import annotations

import numpy as np

NOUNS = """
man woman child boy girl baby friend family mother father sister brother uncle aunt cousin daughter son wife
husband teacher student doctor nurse driver farmer artist writer singer player worker manager neighbor neighbour
police officer customer visitor guest captain pilot engineer lawyer scientist soldier farmer baker chef waiter
dog cat horse bird fish cow sheep rabbit mouse duck chicken tiger lion elephant monkey bear snake butterfly
house home room kitchen bedroom bathroom garden garage office school library hospital church station airport
market shop store bank hotel restaurant cafe museum theatre cinema park beach river lake mountain forest field
village city town street road bridge corner building tower castle island harbour farm factory stadium gallery
car bus train bike bicycle boat ship plane truck taxi ticket bag box bottle cup glass plate bowl knife spoon
table chair door window wall floor roof bed lamp clock phone computer camera radio television letter book
newspaper magazine picture photo map key wallet umbrella jacket coat shirt dress shoes hat gloves
bread butter cheese milk eggs coffee tea water juice soup rice pasta pizza cake chocolate apples oranges
bananas potatoes carrots onions vegetables fruit sandwich breakfast lunch dinner salad chicken meat fish sugar
money price question answer problem idea story song game party meeting lesson class holiday trip journey
birthday wedding concert festival show film movie match race job project report plan message email paper
weather rain snow wind sun sky cloud storm fire light music noise voice name number colour color flowers trees
grass stone sand ice animals people children friends students parents neighbours tourists
""".split()
VERBS = [  # base, third person, past, -ing, past participle
    ("open", "opens", "opened", "opening", "opened"),
    ("close", "closes", "closed", "closing", "closed"),
    ("clean", "cleans", "cleaned", "cleaning", "cleaned"),
    ("paint", "paints", "painted", "painting", "painted"),
    ("wash", "washes", "washed", "washing", "washed"),
    ("cook", "cooks", "cooked", "cooking", "cooked"),
    ("watch", "watches", "watched", "watching", "watched"),
    ("visit", "visits", "visited", "visiting", "visited"),
    ("call", "calls", "called", "calling", "called"),
    ("carry", "carries", "carried", "carrying", "carried"),
    ("fix", "fixes", "fixed", "fixing", "fixed"),
    ("move", "moves", "moved", "moving", "moved"),
    ("order", "orders", "ordered", "ordering", "ordered"),
    ("need", "needs", "needed", "needing", "needed"),
    ("want", "wants", "wanted", "wanting", "wanted"),
    ("like", "likes", "liked", "liking", "liked"),
    ("love", "loves", "loved", "loving", "loved"),
    ("help", "helps", "helped", "helping", "helped"),
    ("check", "checks", "checked", "checking", "checked"),
    ("finish", "finishes", "finished", "finishing", "finished"),
    ("start", "starts", "started", "starting", "started"),
    ("plant", "plants", "planted", "planting", "planted"),
    ("collect", "collects", "collected", "collecting", "collected"),
    ("deliver", "delivers", "delivered", "delivering", "delivered"),
    ("repair", "repairs", "repaired", "repairing", "repaired"),
    ("borrow", "borrows", "borrowed", "borrowing", "borrowed"),
    ("return", "returns", "returned", "returning", "returned"),
    ("decorate", "decorates", "decorated", "decorating", "decorated"),
    ("prepare", "prepares", "prepared", "preparing", "prepared"),
    ("explain", "explains", "explained", "explaining", "explained"),
    ("answer", "answers", "answered", "answering", "answered"),
    ("follow", "follows", "followed", "following", "followed"),
    ("play", "plays", "played", "playing", "played"),
    ("walk", "walks", "walked", "walking", "walked"),
    ("climb", "climbs", "climbed", "climbing", "climbed"),
    ("share", "shares", "shared", "sharing", "shared"),
    ("buy", "buys", "bought", "buying", "bought"),
    ("bring", "brings", "brought", "bringing", "brought"),
    ("build", "builds", "built", "building", "built"),
    ("catch", "catches", "caught", "catching", "caught"),
    ("find", "finds", "found", "finding", "found"),
    ("keep", "keeps", "kept", "keeping", "kept"),
    ("leave", "leaves", "left", "leaving", "left"),
    ("lose", "loses", "lost", "losing", "lost"),
    ("make", "makes", "made", "making", "made"),
    ("meet", "meets", "met", "meeting", "met"),
    ("read", "reads", "read", "reading", "read"),
    ("sell", "sells", "sold", "selling", "sold"),
    ("send", "sends", "sent", "sending", "sent"),
    ("take", "takes", "took", "taking", "taken"),
    ("see", "sees", "saw", "seeing", "seen"),
    ("draw", "draws", "drew", "drawing", "drawn"),
    ("write", "writes", "wrote", "writing", "written"),
    ("drive", "drives", "drove", "driving", "driven"),
    ("eat", "eats", "ate", "eating", "eaten"),
    ("drink", "drinks", "drank", "drinking", "drunk"),
    ("give", "gives", "gave", "giving", "given"),
    ("grow", "grows", "grew", "growing", "grown"),
    ("hold", "holds", "held", "holding", "held"),
    ("sing", "sings", "sang", "singing", "sung"),
    ("teach", "teaches", "taught", "teaching", "taught"),
    ("throw", "throws", "threw", "throwing", "thrown"),
    ("wear", "wears", "wore", "wearing", "worn"),
    ("forget", "forgets", "forgot", "forgetting", "forgotten"),
    ("choose", "chooses", "chose", "choosing", "chosen"),
]
INTRANSITIVE = [  # base, third person, past, -ing
    ("arrive", "arrives", "arrived", "arriving"),
    ("wait", "waits", "waited", "waiting"),
    ("work", "works", "worked", "working"),
    ("stay", "stays", "stayed", "staying"),
    ("travel", "travels", "travelled", "travelling"),
    ("live", "lives", "lived", "living"),
    ("sleep", "sleeps", "slept", "sleeping"),
    ("swim", "swims", "swam", "swimming"),
    ("run", "runs", "ran", "running"),
    ("go", "goes", "went", "going"),
    ("come", "comes", "came", "coming"),
    ("sit", "sits", "sat", "sitting"),
    ("stand", "stands", "stood", "standing"),
    ("dance", "dances", "danced", "dancing"),
    ("laugh", "laughs", "laughed", "laughing"),
    ("listen", "listens", "listened", "listening"),
    ("rest", "rests", "rested", "resting"),
    ("shop", "shops", "shopped", "shopping"),
    ("study", "studies", "studied", "studying"),
    ("begin", "begins", "began", "beginning"),
]
ADJECTIVES = """
big small little large tiny long short tall old new young fresh clean dirty hot cold warm cool wet dry quiet
loud busy empty full early late quick slow fast easy hard heavy light dark bright happy sad tired hungry
friendly beautiful lovely pretty ugly strange famous favourite favorite expensive cheap important difficult
simple special perfect wonderful terrible delicious comfortable dangerous careful funny serious modern
ancient local public private green red blue yellow white black brown orange purple pink grey gray golden
wooden broken open closed narrow wide deep soft sweet sour strong weak rich poor nice good bad great
""".split()
PLACE_PREPOSITIONS = "in at near behind beside outside inside under over across along past into from to".split()
TIMES = """
today|tonight|tomorrow|yesterday|this morning|this afternoon|this evening|this weekend|last night|last week
|last month|last year|last weekend|next week|next month|next year|next weekend|every day|every morning
|every evening|every night|every week|every summer|every winter|every spring|every autumn|on monday|on tuesday
|on wednesday|on thursday|on friday|on saturday|on sunday|at noon|at midnight|in the morning|in the afternoon
|in the evening|at night|at the weekend|on the weekend|after lunch|before dinner|after school|after work
|before breakfast|in january|in february|in march|in april|in may|in june|in july|in august|in september
|in october|in november|in december|at seven o'clock|at half past six|in ten minutes|in an hour|soon|later
|right now|once a week|twice a day|every twenty minutes|every few hours|at the end of the day
""".replace("\n", "").split("|")
SUBJECT_PRONOUNS = "i you we they he she".split()
POSSESSIVES = "my your our their his her".split()
DETERMINERS = ["the", "the", "the", "a", "this", "that", "my", "our", "your", "their", "his", "her", "some"]
NUMBERS = "two three four five six seven eight nine ten twelve fifteen twenty thirty fifty hundred".split()
ADVERBS = "quickly slowly carefully quietly happily finally really always never often sometimes usually".split()
MODALS = "will can could should must might would".split()


class EverydaySentences:
    """Draws everyday English sentences; ``long_words`` (frequent words of 6+ letters) stand in for
    a noun a quarter of the time."""

    def __init__(self, long_words: list[str], rng: np.random.Generator):
        self.long_words = long_words
        self.rng = rng

    def pick(self, items):
        return items[self.rng.integers(len(items))]

    def chance(self, p: float) -> bool:
        return bool(self.rng.random() < p)

    def noun(self) -> str:
        return self.pick(self.long_words) if self.long_words and self.chance(0.25) else self.pick(NOUNS)

    def noun_phrase(self) -> str:
        words = [self.pick(DETERMINERS)]
        if self.chance(0.1):
            words = [self.pick(NUMBERS)]
        if self.chance(0.4):
            words.append(self.pick(ADJECTIVES))
        words.append(self.noun())
        if words[0] == "a" and words[1][0] in "aeiou":
            words[0] = "an"
        return " ".join(words)

    def subject(self) -> tuple[str, bool]:
        """A subject and whether it takes the third person singular."""
        if self.chance(0.4):
            pronoun = self.pick(SUBJECT_PRONOUNS)
            return pronoun, pronoun in ("he", "she")
        return self.noun_phrase(), True

    def place(self) -> str:
        return f"{self.pick(PLACE_PREPOSITIONS)} {self.noun_phrase()}"

    def verb_phrase(self, third: bool, subject: str) -> str:
        transitive = self.chance(0.7)
        verb = self.pick(VERBS) if transitive else self.pick(INTRANSITIVE)
        form = self.rng.integers(6)
        if form == 0:
            head = verb[1] if third else verb[0]
        elif form == 1:
            head = verb[2]
        elif form == 2:
            head = f"{self.pick(MODALS)} {verb[0]}"
        elif form == 3:
            be = "am" if subject == "i" else ("is" if third else "are")
            if self.chance(0.3):
                be = "was" if third or subject == "i" else "were"
            head = f"{be} {verb[3]}"
        elif form == 4 and transitive:
            have = "has" if third else "have"
            head = f"{have} {'just ' if self.chance(0.3) else ''}{verb[4]}"
        else:
            head = f"{'is' if third else 'are'} going to {verb[0]}" if subject != "i" else f"am going to {verb[0]}"
        if self.chance(0.2):
            negative = head.split(" ", 1)
            if len(negative) == 2 and negative[0] in ("will", "can", "could", "should", "must", "is", "are", "am"):
                head = f"{negative[0]} not {negative[1]}"
        words = [head]
        if transitive:
            words.append(self.noun_phrase())
        if self.chance(0.2):
            words.append(self.pick(ADVERBS))
        return " ".join(words)

    def statement(self) -> str:
        subject, third = self.subject()
        words = [subject, self.verb_phrase(third, subject)]
        if self.chance(0.5):
            words.append(self.place())
        if self.chance(0.5):
            words.append(self.pick(TIMES))
        if self.chance(0.15):
            other, other_third = self.subject()
            words += [
                self.pick(["and", "but", "because", "while", "when", "so"]),
                other,
                self.verb_phrase(other_third, other),
            ]
        return " ".join(words)

    def request(self) -> str:
        verb = self.pick(VERBS)[0]
        opener = self.pick(
            [
                "please",
                "could you",
                "can you",
                "would you",
                "don't forget to",
                "remember to",
                "let's",
                "we should",
                "i want to",
                "i need to",
                "try to",
            ]
        )
        words = [opener, verb, self.noun_phrase()]
        if self.chance(0.5):
            words.append(self.place())
        if self.chance(0.4):
            words.append(self.pick(TIMES))
        return " ".join(words)

    def question(self) -> str:
        kind = self.rng.integers(4)
        if kind == 0:
            return f"where is {self.noun_phrase()}"
        if kind == 1:
            subject, third = self.subject()
            aux = "does" if third and subject not in ("i", "you", "we", "they") else "do"
            return (
                f"{self.pick(['what time', 'when', 'why', 'how often', 'where'])} {aux} {subject} "
                f"{self.pick(VERBS)[0]} {self.noun_phrase()}"
            )
        if kind == 2:
            return f"have you seen {self.noun_phrase()} {self.pick(TIMES)}"
        return f"is there {self.noun_phrase()} {self.place()}"

    def description(self) -> str:
        kind = self.rng.integers(3)
        if kind == 0:
            return f"{self.noun_phrase()} is {self.pick(ADJECTIVES)} {self.pick(TIMES)}"
        if kind == 1:
            return f"there {'is' if self.chance(0.5) else 'was'} {self.noun_phrase()} {self.place()}"
        return f"i have {self.noun_phrase()} with {self.noun_phrase()} {self.pick(TIMES)}"

    def sentence(self) -> str:
        kind = self.rng.random()
        if kind < 0.55:
            text = self.statement()
        elif kind < 0.75:
            text = self.request()
        elif kind < 0.88:
            text = self.question()
        else:
            text = self.description()
        return text.replace("a an ", "an ")
