"""English story words in French terms: a release in English (the Commission's, an
agency's) and its French coverage then share words, not only cognates.

The story index compares articles on their stemmed words (`collect.stories.story_vector`);
across English and French only « commission », « innovation », « programme » met, so one
event told in both languages was two stories (docs/dedup.md, « Across languages »). This
module maps the words of an English text to the French words of the same meaning, from a
small glossary of the *field's* vocabulary — open data, data and AI regulation, public
administration, local government, cybersecurity, public money — and drops English function
words, as French ones are dropped. Words it does not know (names, cognates) are kept.

The glossary is general vocabulary of the domain (what a French trade weekly writes for
what a Commission release says), not the names of any event: « dataset » is « jeu de
données », « member states » « États membres », « call for proposals » « appel à projets ».
"""

from __future__ import annotations

import re
import unicodedata

# Function words of English prose (and verbs of saying, auxiliaries): no topic.
_STOP_TEXT = """
a about after all also an and any are as at be been before being between both but by can
could did do does during each either for from had has have he her his how i if in into is
it its itself may might more most must no nor not now of on once only or other our out
over own same shall she should so some such than that the their them then there these they
this those through to today too under until up upon very was we were what when where which
while who whom why will with within would yet you your said says say according
"""
ENGLISH_STOPWORDS = frozenset(_STOP_TEXT.split())

# English word (lower case, singular or base form) → the French words of the same meaning,
# as French news writes them (accents kept: they are folded like any French word; « _ »
# joins the words of one term in `_WORDS_TEXT`). Phrases first (`_PHRASES`): what is one
# term in one language and several words in the other.
_PHRASES = {
    "open data": "données ouvertes",
    "open source": "logiciel libre",
    "high value": "forte valeur",
    "high-value": "forte valeur",
    "high risk": "haut risque",
    "high-risk": "haut risque",
    "member state": "états membres",
    "member states": "états membres",
    "call for proposals": "appel à projets",
    "calls for proposals": "appel à projets",
    "call for projects": "appel à projets",
    "call for tenders": "appel d'offres",
    "public sector": "secteur public",
    "public sector bodies": "organismes publics",
    "public authorities": "autorités publiques",
    "public services": "services publics",
    "public service": "service public",
    "local authorities": "collectivités",
    "local and regional authorities": "collectivités locales régionales",
    "local government": "collectivités",
    "local governments": "collectivités",
    "artificial intelligence": "intelligence artificielle",
    "machine learning": "apprentissage automatique",
    "personal data": "données personnelles",
    "data protection": "protection des données",
    "data sharing": "partage des données",
    "data space": "espace de données",
    "data spaces": "espaces de données",
    "code of practice": "code de bonnes pratiques",
    "general-purpose": "usage général",
    "general purpose": "usage général",
    "entry into force": "entrée en vigueur",
    "enters into force": "entre en vigueur",
    "entered into force": "entré en vigueur",
    "comes into force": "entre en vigueur",
    "free of charge": "gratuitement",
    "real time": "temps réel",
    "real-time": "temps réel",
    "work programme": "programme de travail",
    "annual report": "rapport annuel",
    "first time": "première fois",
    "first meeting": "première réunion",
    "smart city": "ville intelligente",
    "cross-border": "transfrontière",
    "digital innovation hubs": "pôles d'innovation numérique",
    "digital innovation hub": "pôle d'innovation numérique",
    "european union": "union européenne",
    "european commission": "commission européenne",
    "european parliament": "parlement européen",
    "court of justice": "cour de justice",
    "court of auditors": "cour des comptes",
    "public consultation": "consultation publique",
    "public procurement": "commande publique",
    "facial recognition": "reconnaissance faciale",
    "social scoring": "notation sociale",
    "chatbot": "agent conversationnel",
    "digital identity": "identité numérique",
    "digital wallet": "portefeuille numérique",
}
_WORDS_TEXT = """
access:accès accessible:accessible accountability:responsabilité act:loi adopt:adopte
administration:administration agency:agence agreement:accord ai:ia algorithm:algorithme
allocate:attribue amount:montant analysis:analyse announce:annonce annual:annuel
application:application apply:applique approve:approuve assessment:évaluation
assistant:assistant attack:attaque audit:audit authority:autorité available:disponible
award:prix ban:interdit barometer:baromètre benefit:prestations billion:milliard
board:conseil body:organisme breach:violation budget:budget build:construit business:entreprise
call:appel candidate:candidat capacity:capacité census:recensement charter:charte
chatbot:agent citizen:citoyen city:ville classification:classification cloud:cloud
code:code commission:commission common:commun community:communauté company:entreprise
compliance:conformité comply:respecter computing:calcul conference:conférence
connected:connecté consultation:consultation contract:contrat cooperation:coopération
council:conseil country:pays court:cour cover:couvre create:crée criminal:pénal
cyberattack:cyberattaque cybersecurity:cybersécurité data:données database:base
dataset:jeux_de_données deadline:date decision:décision declaration:déclaration
department:département
deploy:déploie design:conception develop:développe development:développement
digital:numérique directive:directive disclose:communique draft:projet education:éducation
election:élection employment:emploi energy:énergie environment:environnement
environmental:environnemental ethic:éthique europe:europe european:européen
evaluation:évaluation example:exemples exchange:échange expand:élargit expert:experts
extend:élargit extension:extension facial:faciale fine:amende first:premier framework:cadre
fund:fonds funding:financement generative:générative geographic:géographique
geospatial:géographique govern:gouverne governance:gouvernance government:gouvernement
grant:subvention guidance:guide guide:guide guideline:lignes_directrices health:santé
hospital:hôpital housing:logement hub:pôle identity:identité impact:impact
implement:applique implementation:mise_en_œuvre improve:améliore include:inclut
infrastructure:infrastructure innovation:innovation inspection:contrôle
interoperability:interopérabilité
interoperable:interopérable investment:investissement investigation:enquête
justice:justice lab:laboratoire launch:lance law:loi leak:fuite legislation:législation
list:liste local:local market:marché meeting:réunion member:membre million:millions
minister:ministre ministry:ministère mobility:mobilité model:modèle municipal:municipal
municipality:commune national:national network:réseau obligation:obligation
office:bureau online:en_ligne open:ouvre opening:ouverture opinion:avis parliament:parlement
partnership:partenariat penalty:sanction people:personnes personal:personnel pilot:pilote
platform:plateforme policy:politique portal:portail power:pouvoir practice:pratiques
presidency:présidence privacy:vie_privée procurement:achat programme:programme
progress:progrès prohibit:interdit prohibited:interdites project:projet proposal:proposition
propose:propose protection:protection provide:fournit provider:fournisseurs public:public
publication:publication publish:publie quality:qualité ransomware:rançongiciel
recommendation:recommandations region:région regional:régional register:registre
regulation:règlement regulator:régulateur release:publie report:rapport requirement:exigences
research:recherche resilience:résilience responsible:responsable result:résultats
reuse:réutilisation review:révision right:droit risk:risque rule:règles safety:sécurité
sanction:sanction school:école science:science scraping:aspiration secure:sécurise
security:sécurité select:sélectionne service:services share:partage simplify:simplifie
simplification:simplification skill:compétences social:social software:logiciel
solution:solutions sovereign:souverain sovereignty:souveraineté space:espace
specification:spécifications standard:norme state:état statistic:statistiques
statistical:statistiques strategy:stratégie study:étude supervision:surveillance
support:soutien survey:enquête sustainable:durable system:systèmes target:objectif
tax:impôt technology:technologie test:teste tool:outil traffic:trafic training:formation
transparency:transparence transport:transport trust:confiance unveil:présente union:union
urban:urbain use:usage user:utilisateurs vote:vote water:eau website:site winner:lauréats
year:année
"""
_WORDS = {
    english: french.replace("_", " ")
    for english, french in (pair.split(":", 1) for pair in _WORDS_TEXT.split())
}
_TERM = re.compile(
    r"\b(?:"
    + "|".join(re.escape(p) for p in sorted(_PHRASES, key=len, reverse=True))
    + r")\b|[^\W_]+(?:-[^\W_]+)*"
)
_ENGLISH = re.compile(r"\b(?:the|of|and|to|has|have|with|for|its|is|are|will|which)\b")
_FRENCH = re.compile(r"\b(?:le|la|les|des|du|et|de|un|une|pour|sur|est|sont|qui|dans)\b")


def is_english(text: str) -> bool:
    """More English function words than French ones in `text` (lower case or not): what
    tells the Commission's release from its French coverage, on a lead or an opening."""
    lowered = text.lower()
    if "the " not in lowered and " of " not in lowered:
        return False  # most texts, read in one scan each
    return len(_ENGLISH.findall(lowered)) > len(_FRENCH.findall(lowered))


def _base(word: str) -> str | None:
    """The glossary's entry for an English word, trying its base forms: « datasets »,
    « authorities », « published », « opening », « publishes »."""
    if word in _WORDS:
        return _WORDS[word]
    candidates = []
    if word.endswith(("ies", "ied")):
        candidates.append(word[:-3] + "y")
    if word.endswith("es"):
        candidates.append(word[:-2])
    if word.endswith("s"):
        candidates.append(word[:-1])
    if word.endswith("ed"):
        candidates += [word[:-2], word[:-1]]
    if word.endswith("ing"):
        candidates += [word[:-3], word[:-3] + "e"]
    for candidate in candidates:
        if candidate in _WORDS:
            return _WORDS[candidate]
    return None


def is_term(word: str) -> bool:
    """Is a (lower-case) English word one of the field's terms? An English headline
    capitalises every word (« Commission Unveils Data Union Strategy »): its terms are no
    names of bodies or places."""
    return _base(word) is not None


def in_french(text: str) -> str:
    """`text` (English) with the field's terms written in French and English function
    words left out; other words (names, cognates, figures) as they are. Its words are
    then read like a French text's (`french.story_words`)."""
    out: list[str] = []
    for match in _TERM.finditer(unicodedata.normalize("NFC", text.lower())):
        term = match.group()
        if term in _PHRASES:
            out.append(_PHRASES[term])
        elif len(term) > 1 and term not in ENGLISH_STOPWORDS:
            french = _base(term)
            if french is None and "-" in term:  # « high-quality », « AI-powered »
                french = " ".join(_base(piece) or piece for piece in term.split("-"))
            out.append(french if french is not None else term)
    return " ".join(out)


# The EU's laws of the field, named in English or French (« AI Act », the French press's
# « IA Act », « le règlement européen sur l'intelligence artificielle », « RIA »): one name
# each, whatever the language, written as one capitalised word so that « AI Act » and
# « Data Act » are not both « Act ».
_REGLEMENT = r"r[èe]glement (?:europ[ée]en |\(UE\) )?"
_LAWS = {
    "AiAct": rf"AI Act|IA Act|{_REGLEMENT}(?:sur|relatif à) l['’](?:IA|intelligence artificielle)",
    # the Commission's office that enforces the AI Act, a body named in both languages
    "AiOffice": r"(?:European )?AI Office"
    r"|Bureau (?:européen )?de l['’](?:IA|intelligence artificielle)",
    "DataGovernanceAct": rf"Data Governance Act|{_REGLEMENT}sur la gouvernance des donn[ée]es",
    "DataAct": rf"Data Act|{_REGLEMENT}sur les donn[ée]es",
    "DigitalServicesAct": rf"Digital Services Act|{_REGLEMENT}sur les services num[ée]riques|DSA",
    "DigitalMarketsAct": rf"Digital Markets Act|{_REGLEMENT}sur les march[ée]s num[ée]riques|DMA",
}
_LAW = re.compile("|".join(rf"\b(?P<{k}>{v})\b" for k, v in _LAWS.items()))
# The laws' one names as the story keys read them (folded, lower case): a law, no body
# (the AI Office is one).
LAW_NAMES = frozenset(k.lower() for k in _LAWS if k.endswith("Act"))


def law_names(text: str) -> str:
    """`text` with each EU law of the field written as its one name (`_LAWS`), so that
    `collect.storykeys` reads « AI Act » and « règlement sur l'IA » as one name."""
    if (
        "Act" not in text
        and "glement" not in text
        and "DSA" not in text
        and "DMA" not in text
        and "Office" not in text
        and "Bureau" not in text
    ):
        return text  # most texts: six scans instead of the alternation at every word
    return _LAW.sub(lambda m: str(m.lastgroup), text)
