"""Task names: Coder's ``NameValid`` (NAME-1) and the default name given when a create request has none."""

from __future__ import annotations

import re
import secrets

from coder_tasks_contract.server.golang.gofmt import go_quote

# Go's regexp ``$`` matches only at the very end, so use fullmatch rather than a Python ``$`` (which also
# matches before a trailing newline).
_NAME = re.compile(r"[a-zA-Z0-9]+(?:-[a-zA-Z0-9]+)*")
MAX_NAME_BYTES = 32


def name_error(name: str) -> str | None:
    """Why ``name`` fails ``codersdk.NameValid``, in Coder's words; None if it is valid.

    Checks in Coder's order: length in bytes (> 32, < 1), the reserved words, then the pattern.
    """
    length = len(name.encode("utf-8", "surrogatepass"))
    if length > MAX_NAME_BYTES:
        return "must be <= 32 characters"
    if length < 1:
        return "must be >= 1 character"
    if name in ("new", "create"):  # exact, case-sensitive comparison, as in Go
        return f"cannot use {go_quote(name)} as a name"
    if not _NAME.fullmatch(name):
        return "must be alphanumeric with hyphens"
    return None


# A sample of moby's namesgenerator lists: enough variety for realistic names.
# fmt: off
_ADJECTIVES = (
    "admiring", "adoring", "affectionate", "agitated", "amazing", "angry", "awesome", "beautiful", "blissful", "bold",
    "boring", "brave", "busy", "charming", "clever", "compassionate", "competent", "condescending", "confident",
    "cool", "cranky", "crazy", "dazzling", "determined", "distracted", "dreamy", "eager", "ecstatic", "elastic",
    "elated", "elegant", "eloquent", "epic", "exciting", "fervent", "festive", "flamboyant", "focused", "friendly",
    "frosty", "funny", "gallant", "gifted", "goofy", "gracious", "great", "happy", "hardcore", "heuristic", "hopeful",
    "hungry", "infallible", "inspiring", "intelligent", "interesting", "jolly", "jovial", "keen", "kind", "laughing",
    "loving", "lucid", "magical", "modest", "musing", "mystifying", "naughty", "nervous", "nice", "nifty",
    "nostalgic", "objective", "optimistic", "peaceful", "pedantic", "pensive", "practical", "priceless", "quirky",
    "quizzical", "recursing", "relaxed", "reverent", "romantic", "sad", "serene", "sharp", "silly", "sleepy", "stoic",
    "strange", "stupefied", "suspicious", "sweet", "tender", "thirsty", "trusting", "unruffled", "upbeat", "vibrant",
    "vigilant", "vigorous", "wizardly", "wonderful", "xenodochial", "youthful", "zealous", "zen",
)
_SURNAMES = (
    "agnesi", "albattani", "allen", "almeida", "antonelli", "archimedes", "ardinghelli", "aryabhata", "austin",
    "babbage", "banach", "bardeen", "bartik", "bassi", "beaver", "bell", "benz", "bhabha", "bhaskara", "black",
    "blackburn", "blackwell", "bohr", "booth", "borg", "bose", "bouman", "boyd", "brahmagupta", "brattain", "brown",
    "buck", "burnell", "cannon", "carson", "cartwright", "carver", "cerf", "chandrasekhar", "chaplygin", "chatelet",
    "chatterjee", "chaum", "chebyshev", "clarke", "cohen", "colden", "cori", "cray", "curie", "curran", "darwin",
    "davinci", "dewdney", "dhawan", "diffie", "dijkstra", "dirac", "driscoll", "dubinsky", "easley", "edison",
    "einstein", "elbakyan", "elgamal", "elion", "ellis", "engelbart", "euclid", "euler", "faraday", "feistel",
    "fermat", "fermi", "feynman", "franklin", "gagarin", "galileo", "galois", "ganguly", "gates", "gauss", "germain",
    "goldberg", "goldstine", "goldwasser", "golick", "goodall", "gould", "greider", "grothendieck", "haibt",
    "hamilton", "haslett", "hawking", "heisenberg", "hellman", "hermann", "herschel", "hertz", "heyrovsky", "hodgkin",
    "hofstadter", "hoover", "hopper", "hugle", "hypatia", "ishizaka", "jackson", "jang", "jemison", "jennings",
    "jepsen", "johnson", "joliot", "jones", "kalam", "kapitsa", "kare", "keldysh", "keller", "kepler", "khayyam",
    "khorana", "kilby", "kirch", "knuth", "kowalevski", "lalande", "lamarr", "lamport", "leakey", "leavitt",
    "lederberg", "lehmann", "lewin", "lichterman", "liskov", "lovelace", "lumiere", "mahavira", "margulis",
    "matsumoto", "maxwell", "mayer", "mccarthy", "mcclintock", "mclaren", "mclean", "mcnulty", "meitner", "mendel",
    "mendeleev", "meninsky", "merkle", "mestorf", "mirzakhani", "montalcini", "moore", "morse", "moser", "murdock",
    "napier", "nash", "neumann", "newton", "nightingale", "nobel", "noether", "northcutt", "noyce", "panini", "pare",
    "pascal", "pasteur", "payne", "perlman", "pike", "poincare", "poitras", "proskuriakova", "ptolemy", "raman",
    "ramanujan", "rhodes", "ride", "ritchie", "robinson", "roentgen", "rosalind", "rubin", "saha", "sammet",
    "sanderson", "satoshi", "shamir", "shannon", "shaw", "shirley", "shockley", "shtern", "sinoussi", "snyder",
    "solomon", "spence", "stonebraker", "sutherland", "swanson", "swartz", "swirles", "taussig", "tesla", "tharp",
    "thompson", "torvalds", "tu", "turing", "varahamihira", "vaughan", "villani", "visvesvaraya", "volhard",
    "wescoff", "wilbur", "wiles", "williams", "williamson", "wilson", "wing", "wozniak", "wright", "wu", "yalow",
    "yonath", "zhukovsky",
)
# fmt: on


def docker_style_name() -> str:
    """``namesgenerator.GetRandomName(0)``: ``adjective_surname``."""
    return f"{secrets.choice(_ADJECTIVES)}_{secrets.choice(_SURNAMES)}"


def generated_task_name(prefix: str = "task-") -> str:
    """Coder's fallback task name: ``task-<docker-style name, hyphenated, cut to 22 chars>-<4 hex>`` (NAME-3);
    ``prefix`` is "" from v2.29 on (#20856)."""
    middle = docker_style_name().replace("_", "-")[:22].removesuffix("-")
    return f"{prefix}{middle}-{secrets.token_hex(2)}"


MAX_DISPLAY_NAME_BYTES = 64


def generated_display_name(prompt: str, name: str) -> str:
    """A display name for a task created without one (#20856: generated along with the name). Coder asks an LLM
    or falls back to its own rule; this fake takes the prompt's first line, cut to 64 bytes, else the name
    (the suite never relies on the wording)."""
    line = next((part.strip() for part in prompt.splitlines() if part.strip()), "") or name
    encoded = line.encode("utf-8", "surrogatepass")[:MAX_DISPLAY_NAME_BYTES]
    return encoded.decode("utf-8", "ignore").strip() or name
