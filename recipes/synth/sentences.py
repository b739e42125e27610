"""Built-in English sentences for the synthetic demo corpus: no download needed.

A small template grammar over hand-made word lists (nouns with their plurals,
verbs with their inflections, adjectives, names, places, numbers, dates and
clock times spelled out as words) plus a few hundred hand-written sentences.
`generate_sentences(n, seed)` is deterministic: the same seed gives the same
list, and a longer list starts with the shorter one.

Every sentence is already in the form `asr.text.normalize_text()` produces:
lower case a-z, apostrophes and single spaces, numbers written as words.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

DEFAULT_NUM_SENTENCES = 3500
DEFAULT_SEED = 0
MIN_WORDS = 4
MAX_WORDS = 14
# Share of the stream drawn from HANDWRITTEN while any are left; the templates
# supply the rest.
HANDWRITTEN_SHARE = 0.08
# generate_sentences() gives up after this many draws per sentence asked for.
MAX_DRAWS_PER_SENTENCE = 50

VOWELS = "aeiou"


# ---------------------------------------------------------------- inflection


def _sibilant(word: str) -> bool:
    return word.endswith(("s", "x", "z", "ch", "sh"))


def _consonant_y(word: str) -> bool:
    return len(word) > 1 and word[-1] == "y" and word[-2] not in VOWELS


def plural(word: str) -> str:
    """Regular English plural of the last word of `word` ("bus stop" -> "bus stops")."""
    if _sibilant(word):
        return word + "es"
    if _consonant_y(word):
        return word[:-1] + "ies"
    return word + "s"


@dataclass(frozen=True)
class Noun:
    singular: str
    plural: str


@dataclass(frozen=True)
class Verb:
    base: str
    third: str  # he / she / it form of the present
    past: str
    participle: str
    ing: str


_THIRD_PERSON = {"have": "has", "be": "is", "do": "does", "go": "goes"}


def _third(base: str) -> str:
    if base in _THIRD_PERSON:
        return _THIRD_PERSON[base]
    return plural(base)


def _past(base: str, double: bool) -> str:
    if double:
        return base + base[-1] + "ed"
    if base.endswith("e"):
        return base + "d"
    if _consonant_y(base):
        return base[:-1] + "ied"
    return base + "ed"


def _ing(base: str, double: bool) -> str:
    if double:
        return base + base[-1] + "ing"
    if base.endswith("ie"):
        return base[:-2] + "ying"
    if base.endswith("e") and not base.endswith(("ee", "ye", "oe")):
        return base[:-1] + "ing"
    return base + "ing"


def parse_nouns(spec: str) -> tuple[Noun, ...]:
    """One noun per line or space: `cat`, or `mouse:mice` for an irregular plural.

    Underscores stand for spaces inside a compound ("post_office").
    """
    nouns = []
    for item in spec.split():
        singular, _, irregular = item.replace("_", " ").partition(":")
        nouns.append(Noun(singular, irregular or plural(singular)))
    return tuple(nouns)


def parse_verbs(spec: str) -> tuple[Verb, ...]:
    """`walk`; `stop+` doubles the last consonant; `take:took:taken` is irregular.

    Irregular verbs take `+` too (`run+:ran:run` -> "running").
    """
    verbs = []
    for item in spec.split():
        head, *forms = item.split(":")
        double = head.endswith("+")
        base = head.rstrip("+")
        past, participle = forms if forms else (_past(base, double),) * 2
        verbs.append(Verb(base, _third(base), past, participle, _ing(base, double)))
    return tuple(verbs)


def words(spec: str) -> tuple[str, ...]:
    """Whitespace-separated items; underscores stand for spaces inside one item."""
    return tuple(item.replace("_", " ") for item in spec.split())


def article(phrase: str) -> str:
    """`phrase` with "a" or "an" in front, by its first sound, roughly."""
    first = phrase.split()[0]
    vowel_sound = first[0] in VOWELS
    if first.startswith(("uni", "use", "euro", "one", "once")):
        vowel_sound = False
    if first.startswith(("hour", "honest", "honor", "heir")):
        vowel_sound = True
    return ("an " if vowel_sound else "a ") + phrase


# ------------------------------------------------------------ numbers, times

ONES = words(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen"
    " fourteen fifteen sixteen seventeen eighteen nineteen"
)
TENS = words("_ _ twenty thirty forty fifty sixty seventy eighty ninety")
_ORDINAL_WORDS = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}


def number_words(n: int) -> str:
    """0 <= n < 1,000,000 in words, British style: 342 -> "three hundred and forty two"."""
    if not 0 <= n < 1_000_000:
        raise ValueError(f"number out of range: {n}")
    if n < 20:
        return ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return TENS[tens] + (" " + ONES[ones] if ones else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return ONES[hundreds] + " hundred" + (" and " + number_words(rest) if rest else "")
    thousands, rest = divmod(n, 1000)
    text = number_words(thousands) + " thousand"
    if rest:
        text += (" and " if rest < 100 else " ") + number_words(rest)
    return text


def ordinal_words(n: int) -> str:
    """1 -> "first", 23 -> "twenty third", 40 -> "fortieth"."""
    *head, last = number_words(n).split()
    if last in _ORDINAL_WORDS:
        last = _ORDINAL_WORDS[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return " ".join([*head, last])


def year_words(year: int) -> str:
    """Years as read aloud.

    1984 -> "nineteen eighty four", 2005 -> "two thousand and five", 2021 -> "twenty twenty one".
    """
    if 2000 <= year < 2010:
        return "two thousand" + (" and " + ONES[year - 2000] if year > 2000 else "")
    high, low = divmod(year, 100)
    if low == 0:
        return number_words(high) + " hundred"
    if low < 10:
        return number_words(high) + " oh " + ONES[low]
    return number_words(high) + " " + number_words(low)


def clock_words(rng: random.Random) -> str:
    """A clock time as people say it: "half past seven", "a quarter to nine", "six fifteen"."""
    hour = rng.randint(1, 12)
    minute = rng.choice(range(0, 60, 5))
    next_hour = hour % 12 + 1
    style = rng.random()
    if minute == 0:
        return rng.choice(
            [f"{ONES[hour]} o'clock", ONES[hour], "noon", "midnight"]
            if style < 0.1
            else [f"{ONES[hour]} o'clock"]
        )
    if style < 0.5:
        if minute == 30:
            return f"half past {ONES[hour]}"
        if minute == 15:
            return f"a quarter past {ONES[hour]}"
        if minute == 45:
            return f"a quarter to {ONES[next_hour]}"
        if minute < 30:
            return f"{number_words(minute)} past {ONES[hour]}"
        return f"{number_words(60 - minute)} to {ONES[next_hour]}"
    if minute < 10:
        return f"{ONES[hour]} oh {ONES[minute]}"
    return f"{ONES[hour]} {number_words(minute)}"


# ----------------------------------------------------------------- word lists

MALE_NAMES = words("""
    adam alan albert alex alfred andrew anthony arthur ben bernard bill bob brian
    carl charles chris colin daniel david dennis edward eric frank fred george
    gordon harry henry hugh ian jack jacob james jim joe john jonathan joseph kevin
    leo leonard liam louis luke mark martin matthew michael nathan neil nick oliver
    oscar patrick paul peter philip ralph raymond richard robert roger ryan sam
    simon stephen steven thomas tim tom tony victor walter william
""")
FEMALE_NAMES = words("""
    abigail alice amanda amy angela anna barbara beth carol caroline catherine
    charlotte chloe claire diana dorothy elizabeth ellen emily emma eve fiona
    grace hannah helen holly isabel jane janet jennifer jessica joan julia karen
    kate laura linda lucy margaret maria martha mary megan molly nancy natalie
    olivia pamela rachel rebecca rose ruth sally sarah sophie susan teresa
    victoria wendy
""")
SURNAMES = words("""
    adams allen baker bell brown carter clark cooper davis edwards evans fisher
    foster green hall harris hill hughes jackson james johnson jones kelly king
    lee lewis martin miller moore morgan morris murphy nelson parker phillips
    price roberts robinson scott smith stewart taylor thomas turner walker ward
    watson white williams wilson wood wright young
""")
CITIES = words("""
    london paris berlin madrid rome vienna dublin edinburgh glasgow cardiff
    manchester liverpool oxford cambridge bristol leeds york boston chicago
    denver seattle houston dallas atlanta miami phoenix toronto montreal
    vancouver sydney melbourne perth auckland tokyo kyoto osaka seoul beijing
    shanghai delhi mumbai cairo nairobi lisbon athens prague warsaw budapest oslo
    stockholm helsinki copenhagen amsterdam brussels geneva zurich venice
    florence naples moscow istanbul singapore bangkok lima santiago havana
    new_york los_angeles san_francisco new_orleans hong_kong cape_town
""")
COUNTRIES = words("""
    france spain italy germany ireland scotland wales england canada mexico
    brazil argentina chile peru japan china india egypt kenya morocco norway
    sweden finland denmark poland greece turkey australia portugal austria
    switzerland iceland holland belgium hungary russia
""")
DAYS = words("monday tuesday wednesday thursday friday saturday sunday")
MONTHS = words(
    "january february march april may june july august september october november december"
)
SEASONS = words("spring summer autumn winter")
RELATIVES = parse_nouns("""
    mother father brother sister aunt uncle cousin grandmother grandfather son
    daughter niece nephew wife husband neighbor friend boss
""")
PEOPLE = parse_nouns("""
    teacher doctor farmer nurse baker driver pilot student artist writer painter
    singer dancer lawyer engineer scientist soldier sailor fisherman:fishermen
    police_officer shopkeeper waiter waitress gardener carpenter plumber builder
    mechanic chef musician photographer journalist librarian manager child:children
    man:men woman:women boy girl baby stranger visitor tourist customer passenger
    guest king queen prince princess captain judge mayor professor dentist
    banker tailor miner hunter poet actor clerk guard player coach referee runner
    climber swimmer traveler neighbor postman:postmen porter butcher jeweler
    firefighter cleaner detective explorer inventor shepherd
""")
ANIMALS = parse_nouns("""
    dog cat horse cow sheep:sheep pig goat chicken duck goose:geese rabbit
    mouse:mice rat fox wolf:wolves bear lion tiger elephant monkey giraffe zebra
    deer:deer owl eagle parrot pigeon crow swan frog snake turtle spider bee
    butterfly fish:fish whale dolphin shark camel donkey hamster puppy kitten
    squirrel hedgehog badger otter beaver penguin kangaroo crab lobster ant
    beetle moth bat seal robin sparrow goldfish:goldfish pony lamb calf:calves
""")
OBJECTS = parse_nouns("""
    book pen pencil cup glass plate bowl spoon fork knife:knives key lamp bag box
    bottle basket blanket pillow umbrella hat coat jacket shirt scarf:scarves
    glove shoe boot sock watch ring necklace camera phone ticket letter parcel
    map wallet purse candle mirror clock picture painting brush hammer ladder
    rope bucket kettle teapot jar envelope notebook newspaper magazine calendar
    radio:radios guitar piano:pianos violin drum trumpet ball kite toy puzzle
    diary suitcase helmet flashlight towel sponge comb ruler stamp coin medal
    trophy flag tent backpack bracelet button cushion dictionary feather
    fishing_rod football globe jug lantern laptop lock postcard
    present rucksack saucepan screwdriver shovel spade statue sweater telescope
    toothbrush tray vase whistle
""")
FURNITURE = parse_nouns("""
    table chair sofa bed desk shelf:shelves cupboard wardrobe bench stool drawer
    bookcase armchair cabinet piano:pianos
""")
VEHICLES = parse_nouns("""
    car bus train bicycle boat ship plane taxi truck van tractor scooter
    motorbike helicopter tram ferry
""")
FRUIT_AND_VEG = parse_nouns("""
    apple banana orange pear peach plum lemon onion carrot potato:potatoes
    tomato:tomatoes egg sandwich cake biscuit cookie pie pizza sausage cucumber
    mushroom strawberry cherry grape melon pineapple coconut muffin pancake bun
    loaf:loaves lime apricot cabbage pumpkin
""")
FOOD_MASS = words("""
    bread rice soup cheese butter pasta chocolate cereal porridge yogurt cream
    toast salad beef lettuce garlic popcorn honey jam sugar salt flour pepper
    spaghetti noodles chicken fish ham bacon
""")
DRINKS = words("tea coffee milk juice water lemonade cocoa orange_juice hot_chocolate")
# (place, the preposition that puts something there)
PLACES = tuple(
    tuple(item.split(":"))
    for item in words("""
    kitchen:in garden:in station:at library:at market:at school:at office:at
    hospital:at church:at museum:at park:in beach:on bank:at bakery:at farm:on
    bridge:on airport:at harbor:at hotel:at restaurant:at cinema:at theater:at
    stadium:at zoo:at castle:at village:in forest:in river:by lake:by
    mountain:on island:on cottage:in garage:in bathroom:in bedroom:in hallway:in
    attic:in basement:in cellar:in classroom:in factory:at warehouse:in shop:at
    supermarket:at post_office:at pharmacy:at gym:at playground:in square:in
    field:in valley:in meadow:in pond:by swimming_pool:at bus_stop:at
    car_park:in town_hall:at lighthouse:at barn:in orchard:in greenhouse:in
    bookshop:at laundry:at workshop:in studio:in laboratory:in
    """)
)
CONTAINERS = words("""
    the_drawer the_cupboard the_basket the_box my_bag her_pocket his_pocket
    the_car the_fridge the_oven the_suitcase the_shed the_garage the_attic
""")
ABSTRACT = parse_nouns("""
    idea plan story question answer problem reason mistake secret promise
    decision message rumor lesson joke dream choice chance habit
""")

ADJ_THING = words("""
    big small large tiny heavy light old new broken shiny dusty clean dirty
    expensive cheap beautiful ugly strange plain simple famous useful wooden
    round square soft hard smooth rough warm cold wet dry empty full long short
    narrow wide thick thin bright dark fancy lovely precious rare ordinary
    favorite ancient modern enormous fragile sturdy colorful striped spotted
    plastic leather rusty golden silver shabby neat elegant curious valuable
    handmade secondhand spare
""")
COLORS = words("red blue green yellow orange purple pink brown black white gray")
ADJ_PERSON = words("""
    happy sad tired angry nervous proud calm busy clever kind friendly quiet shy
    brave lazy hungry thirsty sleepy cheerful gentle honest polite curious
    worried excited bored lonely patient famous young old tall strict generous
    careful careless grumpy sensible cautious confident jealous grateful
    anxious rude clumsy wise funny serious
""")
ADJ_ANIMAL = words("""
    little big young old fat thin hungry sleepy wild tame clever noisy quiet
    fluffy spotted striped lazy friendly fierce tiny huge playful frightened
    injured lost gentle curious
""")
ADJ_FOOD = words("""
    delicious sweet sour salty bitter spicy fresh stale tasty crunchy creamy
    hot cold warm burnt soggy ripe juicy
""")
ADJ_PLACE = words("""
    busy quiet crowded empty noisy peaceful dark cold warm dusty beautiful
    famous lovely old new tiny huge small big dirty clean lonely
""")
WEATHER_ADJ = words("""
    sunny rainy cloudy windy foggy cold hot warm freezing stormy snowy humid
    mild chilly wet dry
""")
ADJ_FEELING = ADJ_PERSON  # "she felt ...", "he seemed ..."
ADVERBS = words("""
    quickly slowly quietly loudly carefully gently suddenly happily sadly
    politely patiently nervously eagerly proudly calmly softly badly easily
    finally secretly angrily bravely cheerfully clumsily rudely wisely
    anxiously silently immediately
""")
FREQUENCY = words("always usually often sometimes rarely never")
ADVERB_DEGREE = words("very quite rather really extremely")

HANDLE_VERBS = parse_verbs("""
    carry drop+ find:found:found lose:lost:lost buy:bought:bought
    sell:sold:sold clean paint fix open close hide:hid:hidden wash
    borrow lend:lent:lent bring:brought:brought take:took:taken move
    throw:threw:thrown catch:caught:caught break:broke:broken polish repair
    wrap+ pack check fold hold:held:held keep:kept:kept leave:left:left
    return replace order deliver collect grab+ lift push pull share count
    weigh examine forget+:forgot:forgotten want need choose:chose:chosen
    steal:stole:stolen give:gave:given send:sent:sent show:showed:shown
    label mend sort unpack load drag+ decorate inspect measure
""")
FOOD_VERBS = parse_verbs("""
    eat:ate:eaten cook bake taste cut+:cut:cut fry slice chop+ peel boil heat
    serve finish order share buy:bought:bought smell love enjoy prepare warm
    freeze:froze:frozen mix stir+ grill roast wash
""")
MOTION_VERBS = parse_verbs("""
    walk run+:ran:run drive:drove:driven fly:flew:flown travel hurry cycle
    swim+:swam:swum ride:rode:ridden go:went:gone come:came:come return move
    sail race climb wander march jog+ rush stroll hike
""")
PERSON_VERBS = parse_verbs("""
    visit call help meet:met:met thank invite follow greet phone
    teach:taught:taught pay:paid:paid ask tell:told:told remind warn hug+
    interview believe trust forgive:forgave:forgiven recognize congratulate
    encourage comfort surprise annoy ignore amuse disturb
""")
PERCEPTION_VERBS = parse_verbs("""
    see:saw:seen hear:heard:heard watch notice spot+ photograph draw:drew:drawn
    feed:fed:fed chase follow film describe
""")
ANIMAL_VERBS = parse_verbs("""
    bark sleep:slept:slept jump run+:ran:run hide:hid:hidden swim+:swam:swum
    sing:sang:sung howl purr climb growl wander rest play squeak hop+ dig+:dug:dug
    splash
""")
PERSON_INTRANSITIVE = parse_verbs("""
    laugh cry smile shout whisper sing:sang:sung dance wait sleep:slept:slept
    listen complain argue apologize cough sneeze relax work study worry
    sigh yawn blink
""")
ACTIVITIES = words("""
    read_a_book watch_a_film play_chess bake_bread go_for_a_walk write_letters
    tidy_the_house play_cards listen_to_music learn_french go_swimming
    visit_the_museum paint_the_fence clean_the_windows plant_some_flowers
    cook_dinner take_photographs play_the_piano go_fishing ride_our_bicycles
    do_the_crossword fix_the_roof practice_the_violin go_shopping wash_the_car
    build_a_snowman fly_a_kite mow_the_lawn sort_the_mail
""")


# ------------------------------------------------------------------- grammar


@dataclass(frozen=True)
class Subject:
    text: str
    third_person: bool  # takes "goes", "is", "has", "was"
    possessive: str

    @property
    def be_present(self) -> str:
        if self.text == "i":
            return "am"
        return "is" if self.third_person else "are"

    @property
    def be_past(self) -> str:
        return "was" if self.third_person or self.text == "i" else "were"

    def present(self, verb: Verb) -> str:
        return verb.third if self.third_person else verb.base

    @property
    def have(self) -> str:
        return "has" if self.third_person else "have"

    @property
    def do(self) -> str:
        return "does" if self.third_person else "do"


PRONOUNS = (
    Subject("i", False, "my"),
    Subject("you", False, "your"),
    Subject("he", True, "his"),
    Subject("she", True, "her"),
    Subject("we", False, "our"),
    Subject("they", False, "their"),
)


class Grammar:
    """Slot fillers for the templates; all randomness comes from one `random.Random`."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def pick(self, items: Sequence):
        return self.rng.choice(items)

    def one(self, options: str) -> str:
        """One of the space-separated `options`; underscores stand for spaces."""
        return self.pick(words(options))

    def maybe(self, text: str, p: float = 0.5) -> str:
        return text if self.rng.random() < p else ""

    # people
    def name(self) -> str:
        return self.pick(MALE_NAMES + FEMALE_NAMES)

    def named(self) -> Subject:
        if self.rng.random() < 0.5:
            return Subject(self.pick(MALE_NAMES), True, "his")
        return Subject(self.pick(FEMALE_NAMES), True, "her")

    def full_name(self) -> str:
        title = self.pick(("mister", "missus", "doctor", "professor", "miss"))
        return self.pick((f"{title} {self.pick(SURNAMES)}", f"{self.name()} {self.pick(SURNAMES)}"))

    def person_np(self) -> str:
        """ "the tired teacher", "my aunt", "sarah", "doctor evans"."""
        roll = self.rng.random()
        if roll < 0.3:
            return self.name()
        if roll < 0.45:
            return self.full_name()
        if roll < 0.65:
            return (
                self.pick(("my", "our", "your", "her", "his")) + " " + self.pick(RELATIVES).singular
            )
        return "the " + self.maybe(self.pick(ADJ_PERSON) + " ", 0.4) + self.pick(PEOPLE).singular

    def subject(self) -> Subject:
        roll = self.rng.random()
        if roll < 0.4:
            return self.pick(PRONOUNS)
        if roll < 0.7:
            return self.named()
        text = self.person_np()
        return Subject(text, True, "their")

    # things
    def thing(self, nouns: Sequence[Noun] = OBJECTS, adj_p: float = 0.5) -> str:
        adjective = self.maybe(self.pick(ADJ_THING + COLORS) + " ", adj_p)
        return adjective + self.pick(nouns).singular

    def the_thing(self, nouns: Sequence[Noun] = OBJECTS, adj_p: float = 0.5) -> str:
        det = self.pick(("the", "the", "the", "my", "your", "this", "that", "our", "her", "his"))
        return f"{det} {self.thing(nouns, adj_p)}"

    def a_thing(self, nouns: Sequence[Noun] = OBJECTS, adj_p: float = 0.5) -> str:
        return article(self.thing(nouns, adj_p))

    def things(self, nouns: Sequence[Noun] = OBJECTS) -> str:
        return self.maybe(self.pick(ADJ_THING + COLORS) + " ") + self.pick(nouns).plural

    def animal(self) -> str:
        return self.maybe(self.pick(ADJ_ANIMAL) + " ") + self.pick(ANIMALS).singular

    def food(self) -> str:
        if self.rng.random() < 0.5:
            return article(
                self.maybe(self.pick(ADJ_FOOD) + " ", 0.3) + self.pick(FRUIT_AND_VEG).singular
            )
        return (
            self.pick(("some", "a bowl of", "a plate of", "a slice of", "a piece of"))
            + " "
            + self.pick(FOOD_MASS)
        )

    def count(self, low: int = 2, high: int = 20) -> str:
        if self.rng.random() < 0.15:
            return number_words(self.rng.randint(high, 999))
        return number_words(self.rng.randint(low, high))

    def money(self) -> str:
        currency = self.pick((("dollars", "cents"), ("pounds", "pence"), ("euros", "cents")))
        whole = number_words(self.rng.randint(2, 99))
        if self.rng.random() < 0.5:
            return f"{whole} {currency[0]}"
        return f"{whole} {currency[0]} and {number_words(self.rng.randint(1, 99))} {currency[1]}"

    def date(self) -> str:
        day = self.rng.randint(1, 28)
        month = self.pick(MONTHS)
        return self.pick(
            (f"the {ordinal_words(day)} of {month}", f"{month} the {ordinal_words(day)}")
        )

    # places and times
    def place(self) -> tuple[str, str]:
        """(preposition, "the quiet station")."""
        name, preposition = self.pick(PLACES)
        return preposition, "the " + self.maybe(self.pick(ADJ_PLACE) + " ", 0.3) + name

    def at_place(self) -> str:
        return " ".join(self.place())

    def city(self) -> str:
        """A city or a country."""
        return self.pick(CITIES + COUNTRIES)

    def destination(self) -> str:
        if self.rng.random() < 0.4:
            return self.pick(CITIES + COUNTRIES)
        name, _ = self.pick(PLACES)
        return "the " + name

    def when_past(self) -> str:
        return self.pick(
            (
                "yesterday",
                "last night",
                "this morning",
                "last week",
                "last year",
                f"last {self.pick(DAYS)}",
                f"on {self.pick(DAYS)}",
                f"in {self.pick(MONTHS)}",
                f"at {clock_words(self.rng)}",
                f"{self.count(2, 12)} days ago",
                f"{self.count(2, 30)} years ago",
                f"in {year_words(self.rng.randint(1950, 2024))}",
                "after lunch",
                "before breakfast",
                f"last {self.pick(SEASONS)}",
                f"on {self.date()}",
            )
        )

    def when_future(self) -> str:
        return self.pick(
            (
                "tomorrow",
                "tonight",
                "next week",
                "next year",
                "later",
                "soon",
                f"next {self.pick(DAYS)}",
                f"on {self.pick(DAYS)}",
                f"in {self.pick(MONTHS)}",
                f"at {clock_words(self.rng)}",
                f"in {self.count(2, 12)} days",
                "after dinner",
                "this weekend",
                f"next {self.pick(SEASONS)}",
                f"on {self.date()}",
            )
        )

    def when_habit(self) -> str:
        return self.pick(
            (
                "every day",
                "every morning",
                "every evening",
                f"every {self.pick(DAYS)}",
                "at weekends",
                f"in the {self.pick(SEASONS)}",
                "after work",
                "before school",
                f"at {clock_words(self.rng)}",
                "once a week",
                "twice a month",
            )
        )


def _templates(g: Grammar) -> list[Callable[[], str]]:
    """The templates, bound to `g`. Each returns one sentence."""
    pick, maybe, one = g.pick, g.maybe, g.one

    def past_handle() -> str:
        s, v = g.subject(), pick(HANDLE_VERBS)
        return f"{s.text} {v.past} {g.the_thing()} {g.when_past()}"

    def past_handle_place() -> str:
        s, v = g.subject(), pick(HANDLE_VERBS)
        return f"{s.text} {v.past} {g.a_thing()} {g.at_place()}"

    def motion_past() -> str:
        s, v = g.subject(), pick(MOTION_VERBS)
        return f"{s.text} {maybe(pick(ADVERBS) + ' ')}{v.past} to {g.destination()} {g.when_past()}"

    def motion_future() -> str:
        s, v = g.subject(), pick(MOTION_VERBS)
        aux = pick(("will", "might", "should", "could", "won't", "can't"))
        return f"{s.text} {aux} {v.base} to {g.destination()} {g.when_future()}"

    def going_to() -> str:
        s, v = g.subject(), pick(HANDLE_VERBS + FOOD_VERBS)
        obj = g.the_thing() if v in HANDLE_VERBS else g.food()
        return f"{s.text} {s.be_present} going to {v.base} {obj} {g.when_future()}"

    def habit() -> str:
        s, v = g.subject(), pick(FOOD_VERBS)
        return f"{s.text} {pick(FREQUENCY)} {s.present(v)} {g.food()} {g.when_habit()}"

    def progressive() -> str:
        s, v = g.subject(), pick(PERSON_INTRANSITIVE)
        return f"{s.text} {s.be_present} {v.ing} {g.at_place()}{maybe(' right now', 0.3)}"

    def past_progressive() -> str:
        s, v = g.subject(), pick(PERSON_INTRANSITIVE)
        other = g.subject()
        return f"{s.text} {s.be_past} {v.ing} when {other.text} {pick(MOTION_VERBS).past} in"

    def perfect() -> str:
        s, v = g.subject(), pick(HANDLE_VERBS + PERCEPTION_VERBS)
        adverb = pick(("never", "already", "just", "not yet", "recently"))
        if adverb == "not yet":
            return f"{s.text} {s.have} not {v.participle} {g.the_thing()} yet"
        return f"{s.text} {s.have} {adverb} {v.participle} {g.a_thing()}"

    def perfect_question() -> str:
        v = pick(PERCEPTION_VERBS)
        return f"have you ever {v.participle} {g.a_thing(ANIMALS, 0.4)} {g.at_place()}"

    def see_animal() -> str:
        s, v = g.subject(), pick(PERCEPTION_VERBS)
        return f"{s.text} {v.past} {article(g.animal())} {g.at_place()} {g.when_past()}"

    def animal_action() -> str:
        v = pick(ANIMAL_VERBS)
        tense = g.rng.random()
        if tense < 0.4:
            return f"the {g.animal()} {v.past} {pick(ADVERBS)} {g.at_place()}"
        if tense < 0.7:
            return f"the {g.animal()} is {v.ing} {g.at_place()}"
        animals = pick(ANIMALS)
        return f"the {animals.plural} {pick(FREQUENCY)} {v.base} {g.when_habit()}"

    def animal_question() -> str:
        v = pick(ANIMAL_VERBS)
        return f"why is the {g.animal()} {v.ing} {g.at_place()}"

    def person_verb() -> str:
        s, v = g.subject(), pick(PERSON_VERBS)
        return f"{s.text} {v.past} {g.person_np()} {g.when_past()}"

    def person_verb_future() -> str:
        s, v = g.subject(), pick(PERSON_VERBS)
        return f"{s.text} will {v.base} {g.person_np()} {g.when_future()}"

    def there_are() -> str:
        return f"there are {g.count()} {g.things()} {g.at_place()}"

    def there_was() -> str:
        return f"there was {g.a_thing()} {g.at_place()} {g.when_past()}"

    def where_is() -> str:
        return f"where did {pick(PRONOUNS[1:]).text} put {g.the_thing()}"

    def it_is_in() -> str:
        where = one("in under behind next_to on_top_of")
        return f"{g.the_thing(adj_p=0.3)} is {where} {pick(CONTAINERS)}"

    def weather() -> str:
        city = pick(CITIES)
        when = pick(("today", "tomorrow", "this week", "yesterday", f"on {pick(DAYS)}"))
        verb = "was" if when in ("yesterday",) else "will be" if when == "tomorrow" else "is"
        return f"the weather in {city} {verb} {pick(ADVERB_DEGREE)} {pick(WEATHER_ADJ)} {when}"

    def weather_if() -> str:
        weather_verb = pick(("rains", "snows", "is sunny", "is windy", "gets cold", "stays dry"))
        when = pick(("tomorrow", "this weekend", "on " + pick(DAYS)))
        return f"if it {weather_verb} {when} we will {pick(ACTIVITIES)}"

    def train_time() -> str:
        v = pick(VEHICLES)
        return (
            f"the {pick(('next', 'last', 'first', 'early', 'late'))} {v.singular} to "
            f"{pick(CITIES)} {pick(('leaves', 'arrives', 'departs'))} at {clock_words(g.rng)}"
        )

    def born() -> str:
        s = g.named()
        return f"{s.text} was born in {pick(CITIES)} in {year_words(g.rng.randint(1920, 2022))}"

    def age() -> str:
        s = g.named()
        when = pick(("next week", "on " + g.date(), "in " + pick(MONTHS), "tomorrow"))
        return f"{s.text} will be {number_words(g.rng.randint(2, 99))} years old {when}"

    def cost() -> str:
        return f"{g.the_thing(adj_p=0.4)} {one('costs cost only_costs used_to_cost')} {g.money()}"

    def paid() -> str:
        s = g.subject()
        return f"{s.text} paid {g.money()} for {g.a_thing(FRUIT_AND_VEG + OBJECTS)}"

    def meeting() -> str:
        verb = one("starts_at ends_at has_moved_to was_at")
        return f"the meeting {verb} {clock_words(g.rng)} on {pick(DAYS)}"

    def appointment() -> str:
        return f"{pick(PRONOUNS).possessive} appointment with {g.full_name()} is on {g.date()}"

    def want_food() -> str:
        return f"i would like {g.food()} and a cup of {pick(DRINKS)} please"

    def food_taste() -> str:
        how = f"{pick(ADVERB_DEGREE)} {pick(ADJ_FOOD)}"
        return f"the {pick(FOOD_MASS)} {one('tastes smells looks')} {how}{maybe(' today', 0.3)}"

    def cooking() -> str:
        s, v = g.subject(), pick(FOOD_VERBS)
        return f"{s.text} {v.past} {g.food()} for {g.person_np()}"

    def said_that() -> str:
        s = g.subject()
        other = g.named()
        verb = one("said thought knew told_me heard")
        return f"{s.text} {verb} that {other.text} was {pick(ADVERB_DEGREE)} {pick(ADJ_PERSON)}"

    def felt() -> str:
        s = g.subject()
        event = one("the_long_journey the_meeting the_party the_exam the_phone_call the_match")
        return f"{s.text} {one('felt seemed looked sounded')} {pick(ADJ_FEELING)} after {event}"

    def comparative() -> str:
        a, b = pick(ANIMALS), pick(ANIMALS)
        adj = pick(
            (
                "bigger",
                "smaller",
                "faster",
                "slower",
                "louder",
                "quieter",
                "older",
                "younger",
                "heavier",
                "lighter",
                "cleverer",
                "friendlier",
                "noisier",
                "lazier",
            )
        )
        return f"the {a.singular} is {adj} than the {b.singular}"

    def superlative() -> str:
        place = pick(PLACES)[0]
        adj = pick(
            (
                "biggest",
                "smallest",
                "oldest",
                "newest",
                "busiest",
                "quietest",
                "most beautiful",
                "most famous",
                "most expensive",
                "cheapest",
            )
        )
        return f"this is the {adj} {place} in {pick(CITIES + COUNTRIES)}"

    def imperative() -> str:
        v = pick(HANDLE_VERBS)
        return f"{maybe('please ')}{v.base} {g.the_thing()} {pick(ADVERBS)}"

    def imperative_dont() -> str:
        v = pick(HANDLE_VERBS)
        when = one("until_tomorrow before_lunch without_asking in_the_rain again yet")
        return f"don't {v.base} {g.the_thing()} {when}"

    def question_did() -> str:
        s, v = pick(PRONOUNS[1:]), pick(HANDLE_VERBS + PERCEPTION_VERBS)
        return f"did {s.text} {v.base} {g.the_thing()} {g.when_past()}"

    def question_how_many() -> str:
        s, v = pick(PRONOUNS[1:]), pick(HANDLE_VERBS)
        return f"how many {pick(OBJECTS).plural} did {s.text} {v.base} {g.at_place()}"

    def question_when() -> str:
        s = g.subject()
        aux = "does" if s.third_person else "do"
        return f"{pick(('when', 'why', 'how often', 'where'))} {aux} {s.text} {pick(ACTIVITIES)}"

    def question_can() -> str:
        return f"can you {pick(PERSON_VERBS).base} {g.person_np()} {g.when_future()}"

    def negative() -> str:
        s = g.subject()
        neg = "doesn't" if s.third_person else "don't"
        verb = one("like want need remember understand")
        return f"{s.text} {neg} {verb} {g.the_thing(ABSTRACT + OBJECTS)}"

    def negative_past() -> str:
        s = g.subject()
        aux, v = one("didn't couldn't wouldn't"), pick(HANDLE_VERBS)
        return f"{s.text} {aux} {v.base} {g.the_thing()} {g.when_past()}"

    def because() -> str:
        s = g.subject()
        thing = f"{s.possessive} {pick(OBJECTS).singular}"
        state = one("broken missing stolen lost wet dirty ruined")
        return f"{s.text} {s.be_past} {pick(ADJ_PERSON)} because {thing} was {state}"

    def relatives_live() -> str:
        s = pick(PRONOUNS)
        pets = f"{g.count(2, 9)} {pick(ANIMALS).plural}"
        return f"{s.possessive} {pick(RELATIVES).singular} lives in {g.city()} with {pets}"

    def works_as() -> str:
        p = pick(PEOPLE)
        return f"{g.name()} works as {article(p.singular)} {g.at_place()}"

    def wants_to_be() -> str:
        p = pick(PEOPLE)
        verb = one("wants_to_be used_to_be is_training_to_be dreams_of_being")
        return f"{g.name()} {verb} {article(p.singular)}"

    def people_place() -> str:
        p = pick(PEOPLE)
        v = pick(PERSON_INTRANSITIVE)
        return f"the {p.plural} {v.past} {pick(ADVERBS)} {g.at_place()}"

    def and_went() -> str:
        return f"{g.name()} and {g.name()} are going to {pick(CITIES + COUNTRIES)} on {pick(DAYS)}"

    def vehicle() -> str:
        v = pick(VEHICLES)
        verb = one("took missed caught waited_for")
        return f"{pick(PRONOUNS).text} {verb} the {pick(COLORS)} {v.singular} to {pick(CITIES)}"

    def need_more() -> str:
        return f"we need {g.count(2, 12)} more {g.things()} before {pick(DAYS)}"

    def lost_thing() -> str:
        s = g.named()
        return f"{s.text} lost {s.possessive} {g.thing(adj_p=0.4)} {g.at_place()} {g.when_past()}"

    def found_in() -> str:
        return f"{pick(PRONOUNS).text} found {g.a_thing()} in {pick(CONTAINERS)}"

    def gift() -> str:
        s, other = g.subject(), g.person_np()
        why = one("christmas their_birthday the_wedding luck free nothing")
        return f"{s.text} gave {other} {g.a_thing()} for {why}"

    def letter() -> str:
        return (
            f"{g.name()} wrote a letter to {g.person_np()} about {article(pick(ABSTRACT).singular)}"
        )

    def story() -> str:
        adj = pick(ADJ_THING)
        who = f"{article(adj)} {pick(PEOPLE).singular}"
        return f"the story is about {who} who {pick(MOTION_VERBS).past} to {g.city()}"

    def phone_number() -> str:
        digits = " ".join(ONES[g.rng.randint(0, 9)] for _ in range(g.rng.randint(4, 7)))
        return f"{one('my his her the')} {one('number code room_number pin')} is {digits}"

    def temperature() -> str:
        return (
            f"it was {number_words(g.rng.randint(2, 40))} degrees in {pick(CITIES)} {g.when_past()}"
        )

    def distance() -> str:
        unit = pick(("miles", "kilometers", "minutes", "hours"))
        origin = one("here the_station our_house the_city_center the_coast")
        return f"the {pick(PLACES)[0]} is {g.count(2, 30)} {unit} from {origin}"

    def score() -> str:
        goals = number_words(g.rng.randint(2, 9)), number_words(g.rng.randint(0, 1))
        return f"{pick(CITIES)} won the match by {goals[0]} goals to {goals[1]}"

    def page() -> str:
        page, paragraph = number_words(g.rng.randint(3, 400)), ordinal_words(g.rng.randint(1, 12))
        return f"please turn to page {page} and read the {paragraph} paragraph"

    def opinion() -> str:
        who = one("i_think i_believe she_says they_say everyone_knows")
        return f"{who} {g.the_thing(adj_p=0.2)} is {pick(ADVERB_DEGREE)} {pick(ADJ_THING)}"

    def color_thing() -> str:
        furniture = f"{one('the her his')} {pick(FURNITURE).singular}"
        return f"{g.name()} painted {furniture} {pick(COLORS)} {g.when_past()}"

    def furniture() -> str:
        verb, where = one("move push carry lift"), one("into out_of across")
        return f"{verb} the {pick(FURNITURE).singular} {where} the {pick(PLACES)[0]}"

    def season() -> str:
        animals, v = pick(ANIMALS).plural, pick(ANIMAL_VERBS)
        where = f"{one('near in by around')} the {pick(PLACES)[0]}"
        return f"in the {pick(SEASONS)} the {animals} {v.base} {where}"

    def should() -> str:
        s = g.subject()
        when = pick(("more often", "before it gets dark", "this afternoon", "with " + g.name()))
        return f"{s.text} should {pick(ACTIVITIES)} {when}"

    def lets() -> str:
        return f"let's {pick(ACTIVITIES)} {g.when_future()}"

    def remember_when() -> str:
        return f"do you remember when {g.name()} {pick(MOTION_VERBS).past} to {g.city()}"

    def while_clause() -> str:
        a, b = g.named(), g.named()
        a_did, b_did = pick(PERSON_INTRANSITIVE).past, pick(FOOD_VERBS).past
        return f"while {a.text} {a_did} {b.text} {b_did} {g.food()}"

    def holiday() -> str:
        return f"{pick(PRONOUNS).text} spent {g.count(2, 14)} days in {g.city()} {g.when_past()}"

    return [
        past_handle,
        past_handle_place,
        motion_past,
        motion_future,
        going_to,
        habit,
        progressive,
        past_progressive,
        perfect,
        perfect_question,
        see_animal,
        animal_action,
        animal_question,
        person_verb,
        person_verb_future,
        there_are,
        there_was,
        where_is,
        it_is_in,
        weather,
        weather_if,
        train_time,
        born,
        age,
        cost,
        paid,
        meeting,
        appointment,
        want_food,
        food_taste,
        cooking,
        said_that,
        felt,
        comparative,
        superlative,
        imperative,
        imperative_dont,
        question_did,
        question_how_many,
        question_when,
        question_can,
        negative,
        negative_past,
        because,
        relatives_live,
        works_as,
        wants_to_be,
        people_place,
        and_went,
        vehicle,
        need_more,
        lost_thing,
        found_in,
        gift,
        letter,
        story,
        phone_number,
        temperature,
        distance,
        score,
        page,
        opinion,
        color_thing,
        furniture,
        season,
        should,
        lets,
        remember_when,
        while_clause,
        holiday,
    ]


HANDWRITTEN = tuple(
    line.strip()
    for line in """
    good morning how are you today
    i'm fine thank you and you
    could you tell me the way to the station
    turn left at the end of the road
    it's a lovely day for a walk in the park
    the early bird catches the worm
    don't count your chickens before they hatch
    actions speak louder than words
    an apple a day keeps the doctor away
    every cloud has a silver lining
    better late than never
    practice makes perfect
    where there's a will there's a way
    the grass is always greener on the other side
    a stitch in time saves nine
    honesty is the best policy
    look before you leap
    too many cooks spoil the broth
    all that glitters is not gold
    when in rome do as the romans do
    the pen is mightier than the sword
    rome wasn't built in a day
    two heads are better than one
    beauty is in the eye of the beholder
    laughter is the best medicine
    what time does the shop close on sunday
    i'm afraid i've lost my keys again
    could you speak a little more slowly please
    i don't understand what you mean
    would you like another cup of tea
    let me know if you need any help
    we ran out of milk this morning
    the kettle has just boiled
    please switch off the lights when you leave
    the children are playing in the garden
    she forgot her umbrella and got soaked
    he missed the last bus home
    the film starts in ten minutes
    can i borrow your pen for a moment
    the library closes at five o'clock on saturdays
    my phone battery is almost empty
    the soup needs a little more salt
    the dog barked at the postman all morning
    we watched the sun set over the sea
    the old man sat on the bench and fed the pigeons
    it has been raining since last thursday
    nobody knows where the treasure is hidden
    the bridge was closed because of the flood
    i'll call you back in half an hour
    they moved to a small village near the coast
    the museum is free on the first sunday of the month
    this is the best pizza i have ever eaten
    the baby finally fell asleep after midnight
    he always reads the newspaper over breakfast
    she has been learning the piano for three years
    the garden looks wonderful in the spring
    our neighbors are having a party tonight
    please remember to water the plants
    the train was delayed by twenty minutes
    he apologized for being late
    they built a sandcastle on the beach
    the shop on the corner sells fresh bread
    i can't find my glasses anywhere
    the cat is sleeping on the windowsill
    we should leave before the traffic gets worse
    she painted the kitchen a pale shade of green
    the concert was cancelled at the last minute
    he fixed the bicycle with an old spanner
    the river froze during the coldest winter in years
    a strong wind blew the leaves across the yard
    the teacher asked the class to be quiet
    there is a small cafe opposite the station
    the farmer woke up before sunrise
    my grandmother tells the best stories
    the lighthouse guided the ships safely home
    he climbed to the top of the hill to see the view
    the parcel arrived two days early
    i've never seen so many stars in the sky
    she keeps her letters in a wooden box
    the clock in the hall stopped at midnight
    we had a picnic by the lake
    the owl hooted softly in the dark forest
    the bakery smells of warm bread and cinnamon
    the boys kicked the ball over the fence
    nobody answered the door when we knocked
    the storm knocked down several old trees
    please write your name at the top of the page
    the doctor told him to rest for a week
    she whistled a cheerful tune as she worked
    they planted tomatoes and beans in the spring
    the fire kept us warm all night
    he hasn't seen his brother for years
    the hotel room had a view of the mountains
    the queen waved to the crowd from the balcony
    the price of petrol went up again
    we need to buy a new washing machine
    it's too late to change our plans now
    the sailors told tales of giant waves
    he wrapped the present in bright paper
    the fox crept quietly past the henhouse
    the market is busiest on saturday mornings
    the students cheered when the results came out
    the road winds through the hills to the sea
    she couldn't decide which dress to wear
    the mechanic said the brakes needed replacing
    my uncle grows the biggest pumpkins in the village
    the ice cream melted before we could eat it
    i'd rather walk than wait for the bus
    they laughed until their sides ached
    the painting was sold for a fortune
    the engine made a strange rattling noise
    he left a note on the kitchen table
    the lake was as smooth as glass
    a young deer stood at the edge of the woods
    the choir sang beautifully at the wedding
    turn the music down please i'm trying to sleep
    she took a deep breath and opened the envelope
    the journey took longer than we expected
    he was so tired that he fell asleep on the sofa
    we could hear the waves crashing on the rocks
    the bees were busy among the flowers
    the kids built a den out of blankets and chairs
    the bus driver waited for the old lady to sit down
    he promised he would never be late again
    the cake was decorated with fresh strawberries
    the path was covered in snow and ice
    she thanked everyone for coming
    we stayed up late talking about the old days
    the shopkeeper counted the change twice
    the little girl hugged her teddy bear
    the plane landed safely despite the fog
    the smell of coffee filled the room
    a lot of people came to the opening night
    he sold his old car to a neighbor
    the twins look exactly alike
    my sister is afraid of spiders
    we got lost on the way to the wedding
    the printer has run out of paper again
    he laughed at his own joke
    the meeting has been moved to thursday afternoon
    the horses galloped across the open field
    she picked a bunch of wild flowers for her mother
    nothing is impossible if you try hard enough
    he spilled coffee all over his notes
    the sky turned orange as the sun went down
    keep calm and carry on
    the quick brown fox jumps over the lazy dog
    she sells sea shells by the sea shore
    peter piper picked a peck of pickled peppers
    how much wood would a woodchuck chuck
    the rain in spain stays mainly in the plain
    a watched pot never boils
    curiosity killed the cat
    don't put all your eggs in one basket
    you can't judge a book by its cover
    the early morning fog hid the valley below
    we spent the whole afternoon looking for the puppy
    the library has thousands of old maps
    he takes his coffee black with no sugar
    the hikers reached the summit just after noon
    the little boat drifted slowly down the river
    she collects stamps from all over the world
    the old castle is said to be haunted
    please don't leave your bags unattended
    the next stop is the city center
    mind the gap between the train and the platform
    the doors are closing please stand clear
    this train terminates at the next station
    passengers are reminded to keep their tickets with them
    the flight to dublin is now boarding at gate seven
    we apologize for any inconvenience
    thank you for waiting your call is important to us
    press one for sales or two for customer service
    the forecast says it will rain all weekend
    temperatures will drop below freezing tonight
    a gentle breeze is expected along the coast
    the roads are icy so drive carefully
    i've got a terrible headache
    she's been working late every night this week
    we're thinking of moving to the countryside
    they've already eaten so they won't be hungry
    you're welcome to stay for dinner
    it's not what you know it's who you know
    that's the funniest thing i've heard all day
    he's the tallest boy in his class
    i wasn't expecting so many guests
    we weren't allowed to take photographs inside
    the children weren't tired at all
    isn't it a beautiful evening
    aren't you coming with us
    wouldn't it be nice to live by the sea
    shouldn't we wait for the others
    who left the gate open
    whose coat is this
    which way is the beach
    how long does it take to get to the airport
    what would you do if you won the lottery
    why don't we meet at the cafe instead
""".strip().splitlines()
)


def generate_sentences(num: int = DEFAULT_NUM_SENTENCES, seed: int = DEFAULT_SEED) -> list[str]:
    """`num` distinct sentences of MIN_WORDS..MAX_WORDS words, the same for the same seed.

    The list is a prefix of an endless seeded stream, so asking for fewer
    sentences gives the first ones of a longer list.
    """
    rng = random.Random(seed)
    templates = _templates(Grammar(rng))
    handwritten = list(HANDWRITTEN)
    rng.shuffle(handwritten)
    sentences: list[str] = []
    seen: set[str] = set()
    for _ in range(MAX_DRAWS_PER_SENTENCE * max(num, 1)):
        if len(sentences) >= num:
            return sentences
        if handwritten and rng.random() < HANDWRITTEN_SHARE:
            sentence = handwritten.pop()
        else:
            sentence = rng.choice(templates)()
        sentence = " ".join(sentence.split())  # optional slots leave double spaces
        if sentence not in seen and MIN_WORDS <= len(sentence.split()) <= MAX_WORDS:
            seen.add(sentence)
            sentences.append(sentence)
    if len(sentences) < num:
        raise ValueError(f"could only make {len(sentences)} distinct sentences, asked for {num}")
    return sentences


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Print the built-in sentences, one a line.")
    parser.add_argument("--num-sentences", type=int, default=DEFAULT_NUM_SENTENCES)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args()
    print("\n".join(generate_sentences(args.num_sentences, args.seed)))
