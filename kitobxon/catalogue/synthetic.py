"""A deterministic generator of realistic synthetic MARC21 records, for benchmarks and tests.

Same seed, same records, byte for byte. Titles and names mix Uzbek Latin, Uzbek Cyrillic,
Karakalpak, Russian and English; authors, publishers and subjects repeat the way they do in a
real catalogue (a few prolific, many occasional); lengths vary from a bare title to a record
with a long abstract and contents note.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import BinaryIO

from pymarc import Field, Indicators, Leader, Record, Subfield

WORDS = {
    "uzb": [
        "kitob",
        "ilm",
        "hayot",
        "tarix",
        "til",
        "adabiyot",
        "vatan",
        "yoshlik",
        "bahor",
        "oʻzbek",
        "maʼrifat",
        "sheʼriyat",
        "dunyo",
        "inson",
        "qalb",
        "yoʻl",
        "kelajak",
        "bilim",
        "mehnat",
        "oila",
        "maktab",
        "ustoz",
        "shahar",
        "tabiat",
        "osmon",
    ],
    "uzb-cyrl": [
        "китоб",
        "илм",
        "ҳаёт",
        "тарих",
        "тил",
        "адабиёт",
        "ватан",
        "ёшлик",
        "баҳор",
        "ўзбек",
        "маърифат",
        "шеърият",
        "дунё",
        "инсон",
        "қалб",
        "йўл",
        "келажак",
        "билим",
        "меҳнат",
        "оила",
        "мактаб",
        "устоз",
        "шаҳар",
    ],
    "kaa": [
        "kitap",
        "bilim",
        "turmıs",
        "tariyx",
        "til",
        "ádebiyat",
        "watan",
        "jaslıq",
        "báhár",
        "qaraqalpaq",
        "dástan",
        "shayır",
        "jol",
        "keleshek",
        "miynet",
        "shańaraq",
        "mektep",
        "ustaz",
        "qala",
        "tábiyat",
        "aspan",
    ],
    "rus": [
        "книга",
        "история",
        "жизнь",
        "язык",
        "литература",
        "родина",
        "юность",
        "весна",
        "наука",
        "мир",
        "человек",
        "сердце",
        "дорога",
        "будущее",
        "труд",
        "семья",
        "школа",
        "учитель",
        "город",
        "природа",
        "небо",
    ],
    "eng": [
        "book",
        "history",
        "life",
        "language",
        "literature",
        "homeland",
        "youth",
        "spring",
        "science",
        "world",
        "people",
        "heart",
        "road",
        "future",
        "work",
        "family",
        "school",
        "teacher",
        "city",
        "nature",
        "sky",
    ],
}
LANGUAGE_CODES = {"uzb": "uzb", "uzb-cyrl": "uzb", "kaa": "kaa", "rus": "rus", "eng": "eng"}
SURNAMES = {
    "uzb": ["Qodiriy", "Karimov", "Toʻxtaboyev", "Hoshimov", "Yusupova", "Gʻulomov", "Nazarov"],
    "uzb-cyrl": ["Қодирий", "Каримов", "Тўхтабоев", "Ҳошимов", "Юсупова", "Ғуломов"],
    "kaa": ["Qayıpbergenov", "Yusupov", "Ájiniyazov", "Berdaqov", "Seytov"],
    "rus": ["Иванов", "Петрова", "Смирнов", "Кузнецова", "Соколов", "Попов"],
    "eng": ["Smith", "Johnson", "Brown", "Taylor", "Wilson", "Davies"],
}
FORENAMES = {
    "uzb": ["Abdulla", "Nodira", "Erkin", "Gulnora", "Oʻtkir", "Shahlo"],
    "uzb-cyrl": ["Абдулла", "Нодира", "Эркин", "Гулнора", "Ўткир"],
    "kaa": ["Tólepbergen", "Ibrayım", "Gúlnara", "Ájiniyaz", "Kúnxoja"],
    "rus": ["Александр", "Мария", "Сергей", "Елена", "Дмитрий"],
    "eng": ["John", "Mary", "David", "Sarah", "James"],
}
PUBLISHERS = [
    ("Toshkent", "Sharq"),
    ("Toshkent", "Oʻzbekiston"),
    ("Toshkent", "Akademnashr"),
    ("Nókis", "Bilim"),
    ("Nókis", "Qaraqalpaqstan"),
    ("Москва", "Наука"),
    ("Ташкент", "Ўқитувчи"),
    ("London", "Penguin"),
    ("Oxford", "Oxford University Press"),
]
SUBJECTS = [
    "Oʻzbek adabiyoti",
    "Tarix",
    "Matematika",
    "Fizika",
    "Informatika",
    "Iqtisodiyot",
    "Qaraqalpaq ádebiyatı",
    "История Узбекистана",
    "Литература",
    "Computer science",
    "Linguistics",
    "Pedagogika",
    "Biologiya",
    "Kimyo",
    "Huquq",
    "Falsafa",
]


def _zipf(rng: random.Random, items: list[str]) -> str:
    """A few items are chosen often, most rarely: real catalogues look like this."""
    weights = [1 / (rank + 1) for rank in range(len(items))]
    return rng.choices(items, weights)[0]


def _isbn(number: int) -> str:
    """A valid ISBN-13 of its own for every record number (no accidental duplicates)."""
    body = f"9785{number % 10**8:08d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def synthetic_record(number: int, seed: int = 2026) -> Record:
    """Record ``number`` of the deterministic sequence ``seed``."""
    rng = random.Random(seed * 1_000_003 + number)
    script = rng.choices(list(WORDS), weights=[40, 15, 10, 20, 15])[0]
    words = WORDS[script]
    language = LANGUAGE_CODES[script]
    title = " ".join(rng.choice(words) for _ in range(rng.randint(1, 7))).capitalize()
    year = rng.randint(1925, 2026)
    place, publisher = rng.choice(PUBLISHERS)

    record = Record(force_utf8=True)
    record.leader = Leader("00000nam a2200000 i 4500")
    record.add_field(Field(tag="001", data=f"syn{number:09d}"))
    record.add_field(Field(tag="003", data="KITOBXON-SYN"))
    record.add_field(Field(tag="008", data=f"260101s{year}    uz {' ' * 17}{language} d"))
    if rng.random() < 0.8:
        record.add_field(
            Field(
                tag="020", indicators=Indicators(" ", " "), subfields=[Subfield("a", _isbn(number))]
            )
        )
    author = f"{_zipf(rng, SURNAMES[script])}, {rng.choice(FORENAMES[script])}"
    record.add_field(
        Field(
            tag="100",
            indicators=Indicators("1", " "),
            subfields=[Subfield("a", author + ","), Subfield("e", "author.")],
        )
    )
    subfields = [Subfield("a", title)]
    if rng.random() < 0.4:
        subtitle = " ".join(rng.choice(words) for _ in range(rng.randint(1, 5)))
        subfields[0] = Subfield("a", title + " :")
        subfields.append(Subfield("b", subtitle + " /"))
    subfields.append(Subfield("c", author.split(", ")[-1] + " " + author.split(", ")[0] + "."))
    record.add_field(Field(tag="245", indicators=Indicators("1", "0"), subfields=subfields))
    record.add_field(
        Field(
            tag="264",
            indicators=Indicators(" ", "1"),
            subfields=[
                Subfield("a", place + " :"),
                Subfield("b", publisher + ","),
                Subfield("c", str(year)),
            ],
        )
    )
    record.add_field(
        Field(
            tag="300",
            indicators=Indicators(" ", " "),
            subfields=[Subfield("a", f"{rng.randint(24, 900)} b.")],
        )
    )
    if rng.random() < 0.3:
        abstract = " ".join(rng.choice(words) for _ in range(rng.randint(20, 200)))
        record.add_field(
            Field(
                tag="520",
                indicators=Indicators(" ", " "),
                subfields=[Subfield("a", abstract.capitalize() + ".")],
            )
        )
    for _ in range(rng.randint(0, 3)):
        record.add_field(
            Field(
                tag="650",
                indicators=Indicators(" ", "7"),
                subfields=[
                    Subfield("a", _zipf(rng, SUBJECTS)),
                    Subfield("2", "local"),
                ],
            )
        )
    for _ in range(rng.choice([0, 0, 0, 1, 2])):
        other = f"{_zipf(rng, SURNAMES[script])}, {rng.choice(FORENAMES[script])}"
        record.add_field(
            Field(
                tag="700",
                indicators=Indicators("1", " "),
                subfields=[
                    Subfield("a", other + ","),
                    Subfield("e", rng.choice(["editor.", "translator."])),
                ],
            )
        )
    return record


def generate(count: int, seed: int = 2026, start: int = 0) -> Iterator[bytes]:
    for number in range(start, start + count):
        yield synthetic_record(number, seed).as_marc()


def write(out: BinaryIO, count: int, seed: int = 2026) -> int:
    written = 0
    for raw in generate(count, seed):
        out.write(raw)
        written += 1
    return written
