"""Demo content: two correspondents, three sections, six articles with generated photos, and logins.

Idempotent: everything is keyed by slug or username and rewritten to the same values, so a
second run changes nothing. Publication times are set only when an article is first created.
No appreciations are made here; the payments demo does that.
"""

import hashlib
import io
import math
import os
import random
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw, ImageFilter

from articles import services
from articles.models import Article, Author, Section
from articles.roles import author_role_grant, editor_role_grant

SECTIONS = [
    {"slug": "nieuws", "name": "Nieuws", "name_en": "News", "position": 1},
    {"slug": "analyse", "name": "Analyse", "name_en": "Analysis", "position": 2},
    {"slug": "reportage", "name": "Reportage", "name_en": "Reportage", "position": 3},
]

AUTHORS = [
    {
        "slug": "noor-van-dalen",
        "name": "Noor van Dalen",
        "bio": "Correspondent in de Sahel; schrijft over water, grenzen en wie erover beslist.",
        "language": "nl",
        "username": "noor",
        "password": "sahel-correspondent-2026",
        "photo_seed": "noor",
    },
    {
        "slug": "mila-radic",
        "name": "Mila Radić",
        "bio": "Reporter covering elections and emigration in the Western Balkans from Sarajevo.",
        "language": "en",
        "username": "mila",
        "password": "balkan-ballots-2026",
        "photo_seed": None,
    },
]

EDITOR = {"username": "redactie", "password": "waardeer-editor-2026", "email": "redactie@example.org"}

# Original demo texts, written for this project.
ARTICLES = [
    {
        "slug": "in-niamey-is-elke-jerrycan-politiek",
        "author": "noor-van-dalen",
        "section": "nieuws",
        "language": "nl",
        "age_hours": 5,
        "palette": ((196, 112, 48), (58, 38, 92)),
        "title": "In Niamey is elke jerrycan politiek",
        "lede": (
            "Nu de Niger maanden eerder droogvalt dan vroeger, bepaalt de waterverkoper wie er in de wijk"
            " kan koken. De regering belooft nieuwe pompen, maar in de volkswijken wacht men nog."
        ),
        "caption": "Vrouwen wachten bij een tappunt in een buitenwijk van Niamey.",
        "credit": "Noor van Dalen",
        "body": """Om vijf uur 's ochtends staat de rij al om het hek van het tappunt. Twintig gele jerrycans,
een paar ezelkarren, drie jongens op een brommer met plastic vaten achterop. De man met de sleutel komt
pas om zes uur, en niemand weet hoeveel water er vandaag uit de kraan komt.

In deze wijk aan de rand van Niamey is water geen vanzelfsprekendheid maar een onderhandeling. Wie vooraan
staat, betaalt vijfentwintig francs per vat. Wie na negen uur komt, betaalt het dubbele bij de verkoper die
met zijn kar door de straten trekt.

## Een rivier die vroeger stopt

De Niger is de levensader van de stad, maar de rivier valt elk jaar eerder droog. Vissers vertellen dat ze
in april al over zandbanken lopen waar ze vroeger tot juni konden varen. Het drinkwaterbedrijf pompt uit
steeds diepere geulen, en in de heetste weken zakt de druk in het leidingnet zo ver dat hoger gelegen wijken
dagenlang niets krijgen.

Een ingenieur van het bedrijf, die niet met zijn naam in de krant wil, noemt het net 'gebouwd voor een stad
van een half miljoen'. Er wonen er inmiddels ruim vier keer zoveel.

## Beloften en pompen

De regering kondigde vorig jaar een programma aan voor honderd nieuwe pompen met zonnepanelen. Op de
kaart in het ministerie staan ze keurig verspreid over de stad. In de volkswijken zijn er tot nu toe twee
geplaatst, en een daarvan staat stil sinds de omvormer is gestolen.

'Iedereen praat over water als het verkiezingstijd is,' zegt Hadiza, die de rij bij het tappunt
bijhoudt in een schoolschrift. 'Daarna praten we er alleen zelf nog over.'

## Wie de sleutel heeft

Het schrift van Hadiza is een klein archief van de schaarste: namen, aantallen, de dagen dat er niets kwam.
Ze houdt het bij zodat niemand twee keer voordringt. Het is ook het enige document dat laat zien hoe vaak
de wijk droog stond. Het waterbedrijf houdt die cijfers per wijk niet bij, of publiceert ze niet.""",
    },
    {
        "slug": "het-meer-dat-krimpt",
        "author": "noor-van-dalen",
        "section": "reportage",
        "language": "nl",
        "age_hours": 30,
        "palette": ((40, 110, 140), (214, 176, 96)),
        "title": "Het meer dat krimpt, en de grens die meeschuift",
        "lede": (
            "Waar vroeger water stond, liggen nu akkers, en elke nieuwe akker roept de vraag op van wie de"
            " grond eigenlijk is. Een reis langs de oevers van een meer dat zich steeds verder terugtrekt."
        ),
        "caption": "Een veehoeder drijft zijn kudde over de drooggevallen bodem van het meer.",
        "credit": "Noor van Dalen",
        "body": """De visser wijst naar een boom midden op een akker met gierst.
'Daar bond ik mijn boot vast,' zegt hij. De boom staat nu bijna een uur lopen van het water.

Het meer krimpt niet gelijkmatig. Het trekt zich terug in grillige lobben, laat eilanden achter die
schiereilanden worden, en maakt vruchtbare grond vrij waar eerst niemand een claim op had. Dat is zegen en
vloek tegelijk.

## Nieuwe grond, oude ruzies

Boeren uit drie landen zaaien op de vrijgekomen bodem. Er zijn geen hekken en nauwelijks kaarten. De
grens, die op papier door het midden van het meer loopt, is op de grond een kwestie van wie er het eerst
was, en wie de dorpschef aan zijn kant heeft.

Een veehoeder vertelt hoe zijn kudde vorig seizoen een omweg van twee dagen moest maken omdat een
trekroute was omgeploegd. 'Vroeger was hier water, dus niemand ploegde,' zegt hij. 'Nu is het land, en
land heeft altijd een eigenaar, ook als niemand weet wie.'

## Gewapende mannen aan de oever

Waar de overheid ver weg is, vullen anderen het gat. Gewapende groepen heffen 'belasting' op vis en oogst
en bieden in ruil bescherming, of iets wat daarop lijkt. Vissers varen daarom liever in groepen en
alleen overdag.

## Wat de kaarten niet laten zien

Satellietbeelden tonen hoe het wateroppervlak per seizoen op en neer gaat. Ze laten niet zien wie er
akkers heeft verloren, welke route is dichtgegroeid of hoeveel families vertrokken. Dat verhaal moet je
aan de oever ophalen, dorp voor dorp.""",
    },
    {
        "slug": "who-owns-the-rain",
        "author": "noor-van-dalen",
        "section": "analyse",
        "language": "en",
        "age_hours": 72,
        "palette": ((34, 74, 60), (170, 200, 120)),
        "title": "Who owns the rain? The Sahel's quiet dam diplomacy",
        "lede": (
            "Upstream reservoirs promise electricity and irrigation, but every cubic metre held back is one"
            " that does not reach the next country. The negotiations rarely make the news."
        ),
        "caption": "An irrigation canal fed by a reservoir upstream, late in the dry season.",
        "credit": "Noor van Dalen",
        "body": """Rivers in the Sahel cross borders that were drawn with a ruler. The water does not care,
but governments do, and the number of dams planned along the region's main rivers has grown quickly in the
past decade.

Each project looks sensible on its own. A reservoir stores the rainy season's water for the dry months,
turns a turbine, and feeds a few thousand hectares of rice. The trouble starts when you add them up.

## The arithmetic of upstream

Hydrologists describe the effect plainly: every reservoir changes the timing of the flood downstream. A
flood that arrives late, or small, ruins the recession farming that whole communities depend on. They
plant in the wet soil as the water withdraws; no flood means no planting.

River basin authorities exist to share this water fairly. In practice their secretariats are small,
their budgets depend on member states paying on time, and their rulings are advice rather than law.

## Diplomacy without headlines

Most of the bargaining happens in technical committees. Engineers exchange flow data, agree on minimum
releases and argue about who pays for monitoring stations. It is slow, unglamorous work, and it mostly
works, until a drought year tests every promise at once.

## What to watch

Three things matter more than any single dam: whether flow data are published, whether minimum releases
are written into operating rules, and whether downstream farmers have anyone to complain to. Where all
three exist, disputes get solved in meeting rooms. Where they do not, they get solved on the riverbank.""",
    },
    {
        "slug": "counting-votes-in-a-schoolhouse",
        "author": "mila-radic",
        "section": "reportage",
        "language": "en",
        "age_hours": 10,
        "palette": ((120, 36, 52), (236, 200, 150)),
        "title": "Counting the votes in a mountain schoolhouse",
        "lede": (
            "In a village with more pensioners than pupils, the polling station is the old classroom and"
            " the count is done by candlelight when the power fails. A night with the people who make"
            " an election happen."
        ),
        "caption": "Ballot boxes wait on school desks before the count begins.",
        "credit": "Mila Radić",
        "body": """The school closed eleven years ago, when the last two children moved to town with their
parents. On election day it opens again: the desks are pushed together, a curtain is pinned across a
corner, and the village's five polling officials sit down behind a wooden ballot box.

By noon, a third of the registered voters have come. Many of the others live abroad and are on the list
only because nobody removes the names of people who have left.

## A register full of ghosts

The electoral roll is a quiet scandal that everyone knows about. In villages like this one, turnout looks
dismal on paper because half the voters are in Germany, Austria or Ireland. Observers say the inflated
lists also leave room for abuse: an absent name is a vote that someone else could try to cast.

The officials here guard against that by knowing everyone. 'I taught most of them to read,' says the
chairwoman, a retired teacher. 'Nobody votes for a cousin while I am sitting here.'

## When the lights go out

At seven in the evening the polls close and, as if on cue, the electricity fails. Someone produces
candles and a torch. The count continues, each ballot held up, read aloud and shown to the party
observers, who lean in to check.

It takes two hours to count two hundred votes. The result is phoned in to the municipal commission, then
written on a form in triplicate, signed by everyone present.

## Trust, one ballot at a time

National debates about these elections are loud and bitter. In this classroom, the process is slow and
almost courteous. It is the part of democracy that rarely makes the news, and the part that holds when
everything else is contested.""",
    },
    {
        "slug": "kiezers-willen-hun-kinderen-terug",
        "author": "mila-radic",
        "section": "analyse",
        "language": "nl",
        "age_hours": 50,
        "palette": ((60, 60, 110), (210, 120, 90)),
        "title": "Kiezers op de Balkan willen vooral hun kinderen terug",
        "lede": (
            "Partijen beloven wegen, banen en aansluiting bij Europa. Maar de vraag die in de dorpen het"
            " zwaarst weegt, is waarom de jongeren vertrekken, en wat hen zou laten terugkomen."
        ),
        "caption": "Een lege speelplaats in een dorp waar de meeste jongeren zijn vertrokken.",
        "credit": "Mila Radić",
        "body": """In bijna elk gesprek over de verkiezingen komt het vroeg of laat ter sprake: de zoon in
Stuttgart, de dochter in Dublin, de kleinkinderen die alleen nog met kerst langskomen. Emigratie is
geen thema in de campagnes, maar het is de achtergrond van alles.

De regio verloor het afgelopen decennium honderdduizenden inwoners. Wie vertrekt, is meestal jong en
opgeleid. Wie blijft, wordt ouder en stemt.

## Beloften die niemand gelooft

Campagneposters beloven nieuwe fabrieken en snellere wegen naar de hoofdstad. Kiezers halen er hun
schouders over op. 'Die weg beloven ze al sinds mijn vader stemde,' zegt een winkelier.

Wat mensen wél noemen, is minder tastbaar: eerlijke benoemingen, een rechter die niet bij een partij
hoort, een baan die je krijgt omdat je goed bent en niet omdat je lid bent.

## Geld van ver

Tegelijk houden de vertrokken kinderen de dorpen overeind. Het geld dat zij sturen, betaalt nieuwe daken,
medicijnen en studieboeken. Economen schatten dat die overmakingen in sommige landen meer opleveren dan
alle buitenlandse investeringen samen.

## Wat terugkeer zou vragen

Onderzoekers die terugkeerders interviewden, horen steeds dezelfde voorwaarden: een overheid die werkt
zonder connecties, scholen waar je je kinderen met een gerust hart heen stuurt, en zekerheid dat een
bedrijf niet door een vergunningsambtenaar wordt gesloopt. Geen enkele partij zet die lijst bovenaan.
Toch is het, zeggen de ouders in de dorpen, de enige verkiezingsbelofte die ertoe doet.""",
    },
    {
        "slug": "the-long-road-to-the-polling-station",
        "author": "mila-radic",
        "section": "nieuws",
        "language": "en",
        "age_hours": 96,
        "palette": ((28, 52, 96), (150, 170, 200)),
        "title": "The long road to the polling station",
        "lede": (
            "For voters abroad, casting a ballot can mean a day's travel to a consulate. New rules were"
            " supposed to make it easier; in practice, the queues have only moved."
        ),
        "caption": "Voters queue outside a consulate on a cold morning.",
        "credit": "Mila Radić",
        "body": """The queue starts before dawn on the pavement outside the consulate. Some people have driven
through the night from other cities; a few have taken a day off work they will not be paid for.

For the diaspora, voting has always been an effort. This year the government promised to make it
easier by opening more polling stations abroad. It opened some, but far fewer than the parties of the
diaspora asked for.

## More stations, same bottlenecks

Observers counted the stations and the voters and found the same problem as before: too few places for
too many people, concentrated in the cities where most emigrants live. Smaller towns got nothing.

Postal voting, used by many neighbouring countries, remains unavailable. The electoral commission says
it cannot guarantee the secrecy of a ballot sent by mail. Critics say the real concern is that the
diaspora tends to vote against the governing coalition.

## A vote that costs a day

'I have voted in every election since I left,' says a nurse who travelled four hours to get here.
'Every time it costs me a day and a train ticket. I do it because if I stop, they will say we do not
care.'

## What happens next

The count of diaspora ballots takes longer, and in close races it can decide who governs. Both sides
will be watching the consulates. The people in the queue mostly want to be home before dark.""",
    },
]


def _rng(seed: str) -> random.Random:
    return random.Random(int(hashlib.sha256(seed.encode()).hexdigest()[:16], 16))  # noqa: S311


def hero_image_bytes(seed: str, palette: tuple, size: tuple[int, int] = (1600, 900)) -> bytes:
    """An abstract, deterministic 'photo': a gradient with soft shapes, the same for the same seed."""
    rng = _rng(seed)
    width, height = size
    top, bottom = palette
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    for y in range(height):
        t = y / (height - 1)
        draw.line(
            [(0, y), (width, y)], fill=tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        )
    shapes = Image.new("RGBA", size, (0, 0, 0, 0))
    shape_draw = ImageDraw.Draw(shapes)
    for _ in range(14):
        cx, cy = rng.randrange(width), rng.randrange(height)
        r = rng.randrange(60, 320)
        light = rng.random() < 0.5
        colour = (255, 245, 225, rng.randrange(30, 90)) if light else (20, 16, 30, rng.randrange(30, 90))
        shape_draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=colour)
    horizon = round(height * (0.55 + rng.random() * 0.2))
    points = [(0, height)]
    for x in range(0, width + 80, 80):
        points.append((x, horizon + round(math.sin(x / 140 + rng.random()) * 30)))
    points.append((width, height))
    shape_draw.polygon(points, fill=(15, 12, 20, 140))
    shapes = shapes.filter(ImageFilter.GaussianBlur(6))
    image.paste(shapes, mask=shapes)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def portrait_bytes(seed: str) -> bytes:
    rng = _rng(seed)
    image = Image.new(
        "RGB", (240, 240), (rng.randrange(80, 200), rng.randrange(60, 140), rng.randrange(60, 120))
    )
    draw = ImageDraw.Draw(image)
    draw.ellipse([70, 40, 170, 140], fill=(236, 214, 190))
    draw.ellipse([30, 150, 210, 330], fill=(40, 40, 60))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def write_media(name: str, content: bytes) -> str:
    """Write under a fixed name (the storage would otherwise add a suffix on the second run)."""
    path = default_storage.path(name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(content)
    return name


class Command(BaseCommand):
    help = "Create or refresh the demo content and logins (safe to run repeatedly)."

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        sections = {}
        for data in SECTIONS:
            section, _ = Section.objects.update_or_create(slug=data["slug"], defaults=data)
            sections[section.slug] = section

        User = get_user_model()
        credentials = []
        editor, _ = User.objects.get_or_create(
            username=EDITOR["username"], defaults={"email": EDITOR["email"]}
        )
        self._set_password(editor, EDITOR["password"])
        editor_role_grant(editor)
        credentials.append(("editor", EDITOR["username"], EDITOR["password"]))

        authors = {}
        for data in AUTHORS:
            author, _ = Author.objects.update_or_create(
                slug=data["slug"],
                defaults={"name": data["name"], "bio": data["bio"], "language": data["language"]},
            )
            if data["photo_seed"]:
                name = write_media(f"authors/demo-{author.slug}.jpg", portrait_bytes(data["photo_seed"]))
                if author.photo.name != name:
                    author.photo.name = name
                    author.save(update_fields=["photo"])
            user, _ = User.objects.get_or_create(
                username=data["username"], defaults={"email": f"{data['username']}@example.org"}
            )
            self._set_password(user, data["password"])
            author_role_grant(user, author)
            authors[author.slug] = author
            credentials.append((f"author {author.name}", data["username"], data["password"]))

        now = timezone.now()
        for data in ARTICLES:
            image_name = write_media(
                f"heroes/demo/{data['slug']}.jpg", hero_image_bytes(data["slug"], data["palette"])
            )
            fields = {
                "title": data["title"],
                "lede": data["lede"],
                "body": data["body"],
                "section": sections[data["section"]],
                "author": authors[data["author"]],
                "language": data["language"],
                "status": Article.Status.PUBLISHED,
                "appreciation_enabled": True,
                "hero_image": image_name,
                "hero_alt": data["caption"],
                "hero_caption": data["caption"],
                "hero_credit": data["credit"],
            }
            # The publication time is set once, so a second run does not reorder the front page.
            article, _ = Article.objects.update_or_create(
                slug=data["slug"],
                defaults=fields,
                create_defaults={**fields, "published_at": now - timedelta(hours=data["age_hours"])},
            )
            services.article_hero_variants_build(article=article)

        self.stdout.write(self.style.SUCCESS(f"Demo content ready: {len(ARTICLES)} articles."))
        self.stdout.write("Logins for the panel at /admin/:")
        for role, username, password in credentials:
            self.stdout.write(f"  {role:<24} username: {username:<10} password: {password}")

    @staticmethod
    def _set_password(user, password: str) -> None:
        validate_password(password, user)
        if not user.check_password(password):
            user.set_password(password)
            user.save(update_fields=["password"])
