"""Near-duplicate stories: the threshold is pinned on the pairs in tests/data/stories/."""

from __future__ import annotations

import itertools
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from veille.collect.stories import (
    CANDIDATE_THRESHOLD,
    COPY_SIMILARITY,
    COVERAGE_HOURS,
    DEFAULT_THRESHOLD,
    LATER_EVENT,
    MIN_SIMILARITY,
    STORY_SIMILARITY,
    TIED_HOURS,
    TIED_SIMILARITY,
    UNNAMED_SIMILARITY,
    assign_story,
    assign_story_confirmed,
    fingerprint,
    has_enough_text,
    hours_apart,
    required_similarity,
    same_story,
    story_vector,
)
from veille.collect.storykeys import story_keys
from veille.collect.storynames import canonical_name, own_page, site_names
from veille.text.fingerprint import (
    from_signed64,
    hamming,
    simhash,
    text_similarity,
    to_signed64,
)
from veille.text.french import story_fold

DATA = Path(__file__).parent / "data" / "stories"


def _load() -> list[tuple[str, str, str, str]]:
    stories = []
    for path in sorted(DATA.glob("*.txt")):
        head, body = path.read_text(encoding="utf-8").split("\n", 1)
        theme = head.split(":", 1)[1].strip()
        a, b = body.split("--- a\n", 1)[1].split("--- b\n", 1)
        stories.append((path.stem, theme, a.strip(), b.strip()))
    return stories


STORIES = _load()


def _cross_pairs(same_theme: bool) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for x, y in itertools.combinations(STORIES, 2):
        if same_theme and x[1] != y[1]:
            continue
        pairs.extend((x[2 + i], y[2 + j]) for i in (0, 1) for j in (0, 1))
    return pairs


def test_corpus_has_enough_pairs() -> None:
    assert len(STORIES) >= 15
    assert len({s[0] for s in STORIES}) == len(STORIES)
    assert len(_cross_pairs(same_theme=True)) >= 15
    assert all(has_enough_text(s[2]) and has_enough_text(s[3]) for s in STORIES)


def test_simhash_threshold_separates_same_story_from_same_topic() -> None:
    same = sorted(hamming(simhash(a), simhash(b)) for _, _, a, b in STORIES)
    other = sorted(hamming(simhash(a), simhash(b)) for a, b in _cross_pairs(same_theme=True))
    print(
        f"\nsame story: {same}\nsame topic, other story: min {other[:5]} median "
        f"{other[len(other) // 2]} max {other[-1]} (n={len(other)})"
    )
    assert max(same) <= DEFAULT_THRESHOLD < min(other)


def test_confirmed_assignment_separates_every_pair() -> None:
    same = [text_similarity(a, b) for _, _, a, b in STORIES]
    others = _cross_pairs(same_theme=False)
    other = [text_similarity(a, b) for a, b in others]
    print(f"\ncosine same story min {min(same):.2f}; other stories max {max(other):.2f}")
    assert min(same) >= MIN_SIMILARITY > max(other)
    for _, _, a, b in STORIES:
        assert hamming(simhash(a), simhash(b)) <= CANDIDATE_THRESHOLD
    # Every story's b version finds its own a among all a versions, and nothing else.
    candidates = [(n, simhash(a), a) for n, (_, _, a, _) in enumerate(STORIES)]
    for n, (_, _, _, b) in enumerate(STORIES):
        assert assign_story_confirmed(simhash(b), b, candidates) == n
        others_only = [c for c in candidates if c[0] != n]
        assert assign_story_confirmed(simhash(b), b, others_only) is None


def test_assign_story_picks_nearest_within_threshold() -> None:
    fp = 0b1011
    candidates = [(1, 0b1011 ^ (0b111 << 20)), (2, 0b1010), (3, 0b1011 ^ 0b1)]
    assert assign_story(fp, candidates, threshold=3) == 2  # tie at 1 bit: first listed wins
    assert assign_story(fp, candidates[:1], threshold=3) == 1
    assert assign_story(fp, candidates[:1], threshold=2) is None
    assert assign_story(fp, [], threshold=64) is None
    # signed (as stored) and unsigned fingerprints compare alike
    big = (1 << 63) | 5
    assert assign_story(big, [(7, to_signed64(big))], threshold=0) == 7


def test_signed64_round_trip() -> None:
    for value in (0, 1, (1 << 63) - 1, 1 << 63, (1 << 64) - 1, simhash("Données ouvertes")):
        signed = to_signed64(value)
        assert -(1 << 63) <= signed < (1 << 63)
        assert from_signed64(signed) == value
    assert to_signed64((1 << 64) - 1) == -1
    assert hamming(-1, (1 << 64) - 1) == 0


def test_simhash_is_stable_and_folds_case_and_accents() -> None:
    text = "La Métropole publie ses DONNÉES ouvertes sur les arbres et les vélos."
    assert simhash(text) == simhash(text.lower().replace("é", "e").replace("É", "E"))
    assert story_fold("Été, Œuvre") == "ete, œuvre"
    assert 0 <= simhash(text) < 1 << 64
    assert simhash("") == 0
    # stable across processes (no PYTHONHASHSEED dependence): the value is stored
    code = "from veille.text.fingerprint import simhash; print(simhash('arbres et vélos'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert int(out.stdout) == simhash("arbres et vélos")


@pytest.mark.parametrize("text", ["", "Trois mots seulement", "Titre : données ouvertes"])
def test_short_texts_are_not_fingerprinted(text: str) -> None:
    assert not has_enough_text(text)


def test_fingerprint_is_simhash_of_title_and_text_with_the_story_vector() -> None:
    """The workers' one-pass fingerprint must equal what the store would compute."""
    for name, _, a, b in STORIES:
        for title, text in ((name.replace("-", " "), a), ("", b), ("L'Été des données", a)):
            result = fingerprint(title, text)
            assert result is not None
            fp, vector = result
            assert fp == simhash(f"{title}\n{text}")
            assert vector == story_vector(title, text)
    assert fingerprint("Un titre court", "Trois mots seulement") is None


def test_lead_keys_name_bodies_and_figures_not_sentence_starts() -> None:
    keys = story_keys(
        "Valmont : la métropole lance son portail",
        "L'Assemblée nationale a voté. Depuis lundi, Brévannes publie 180 jeux en 2026, "
        "jusqu'au 30 juin, soit 3 500 fichiers.",
    )
    # « Depuis » starts a sentence; names are folded and canonical (« assemble »).
    assert keys.lead_names == {"valmont", "assemble"}
    assert {"brevan", "depuis"} <= keys.mentioned and "metropole" not in keys.mentioned
    assert keys.lead_years == frozenset() and keys.lead_figures == frozenset()
    second = story_keys("Rapport", "Le rapport 2026 compte 61 000 jeux, le 1er janvier.")
    assert second.lead_years == {"2026"} and second.lead_figures == {"61000"}
    # A headline's first word is a place only if the text never writes it in lower case.
    assert (
        story_keys("Vidéoprotection : une amende", "La vidéoprotection filmait.").lead_names
        == set()
    )


def test_subjects_leave_out_people_parentheses_and_comparisons() -> None:
    """What says whose event it is: not the person quoted, not the département in
    parentheses, not the body an « après X, » clause compares with."""
    quoted = story_keys(
        "Action sociale : l'IA s'invite dans les entretiens",
        "« L'outil écrit le brouillon », insiste la vice-présidente, Nadia Ferrand.",
    )
    assert {"nadia", "ferrand"} <= quoted.lead_names and not quoted.subjects & {"nadia", "ferrand"}
    town = story_keys("Cyberattaque", "La mairie de Saint-Amblard (Haute-Arvenne) est bloquée.")
    assert town.subjects == {"saint", "amblard"} and {"haut", "arven"} <= town.lead_names
    later = story_keys(
        "Le Val-Mordane adopte l'outil",
        "Après le Haut-Vercel, le Département du Val-Mordane a mis en service l'outil.",
    )
    assert later.subjects == {"val", "mordan"} and "vercel" not in later.mentioned
    # « d'après l'Insee, » names a source, not a comparison.
    assert "inse" in story_keys("Recensement", "D'après l'Insee, Valmont gagne.").mentioned
    # Inhabitants are their place.
    assert canonical_name("montbrialais") == canonical_name("montbrial")
    assert canonical_name("castelmoinais") == canonical_name("castelmoine")
    # « Rectificatif : … » names no place; « Claire Dumoulin » is no place either.
    fixed = story_keys("Rectificatif : 1 200 habitants", "C'est ce qu'a précisé Claire Dumoulin.")
    assert not fixed.subjects


def test_a_page_that_names_nobody_is_tied_by_its_site() -> None:
    """A body's own page (« La Ville publie… ») names the body by its site: two such pages
    of two towns are not tied, a page and the press naming its town are."""
    assert site_names("www.montbrial.fr") == {"montbrial"}
    assert site_names("data.gouv.fr") == frozenset()  # « data »: generic
    page = story_keys(
        "Le portail de la Ville est en ligne", "La Ville publie 96 jeux.", "montbrial.fr"
    )
    other = story_keys("Notre portail est en ligne", "La Ville publie 64 jeux.", "lorvac.fr")
    press = story_keys("Montbrial ouvre un portail", "La ville de Montbrial publie 96 jeux.")
    assert page.site == {"montbrial"}
    assert same_story(0.35, 2, page, press)  # tied: the floor is STORY_SIMILARITY
    assert not same_story(0.35, 2, page, other)  # not tied: UNNAMED_SIMILARITY
    named = story_keys("Portail", "La ville de Montbrial publie 96 jeux.", "lorvac.fr")
    assert named.site == frozenset()  # a lead that names someone keeps its names only


def test_a_body_s_own_page_has_its_site_as_subject() -> None:
    """Two towns' own pages told with one template are two events, whatever their words; a
    news site's nameless lead (national news naming only the State) keeps no subject."""
    page = story_keys(
        "Le portail de la Ville est en ligne", "La Ville publie 96 jeux.", "montbrial.fr"
    )
    other = story_keys("Notre portail est en ligne", "La Ville publie 64 jeux.", "lorvac.fr")
    council = story_keys(
        "Le conseil communautaire adopte la charte", "Le conseil a voté.", "vernasse-agglo.fr"
    )
    press = story_keys("Montbrial ouvre un portail", "La ville de Montbrial publie 96 jeux.")
    news = story_keys(
        "L'État publie ses données", "Le gouvernement ouvre 500 jeux.", "journal-des-territoires.fr"
    )
    assert page.own and page.subjects == {"montbrial"}
    assert other.own and council.own  # « notre », a site named « -agglo »
    assert not news.own and not news.subjects
    assert not same_story(0.95, 2, page, other)  # each is its own body's event
    # Against the press, a page's site words veto nothing (the press may name the body
    # otherwise than its site): the nameless floor still holds them apart.
    elsewhere = story_keys("Lorvac ouvre un portail", "La ville de Lorvac publie ses jeux.")
    assert not same_story(UNNAMED_SIMILARITY - 0.01, 2, page, elsewhere)
    assert same_story(UNNAMED_SIMILARITY, 2, page, elsewhere)
    assert same_story(0.95, 2, page, press)  # the press names the page's town
    # « la Métropole de Lisandre » names a body: that is the press, not the body speaking.
    assert not own_page("journal.fr", "Lisandre\nLa Métropole de Lisandre adopte sa charte.")
    assert not own_page("journal.fr", "Portail\n« Nous avons ouvert », dit le maire.")
    # A body's site whose name says so (« lisandre-metropole ») counts as one word: it is
    # named by any word of it (« l'Institut Territoires numériques » names
    # « territoires-numeriques.org »).
    barometer = story_keys(
        "Baromètre 2026",
        "Les départements en tête, selon notre baromètre.",
        "territoires-numeriques.org",
    )
    trade = story_keys("Maturité numérique", "Selon l'Institut Territoires numériques, 62 %.")
    assert barometer.own and same_story(0.6, 2, barometer, trade)


def test_hours_apart_follow_ups_and_cited_days() -> None:
    """A later lead that tells what came of an event (« compte déjà », « dix jours après »)
    needs a near copy; one that cites the day of the earlier article is that day's event."""
    monday = datetime(2026, 3, 2, 9, tzinfo=UTC)
    event = story_keys("Queyrolles vote une clause", "Le conseil de Queyrolles a voté jeudi.")
    trade = story_keys("Clause données", "Le contrat voté le 1er mars à Queyrolles l'illustre.")
    follow = story_keys("Premier bilan", "Le portail ouvert le 2 mars compte déjà 8 000 visites.")
    week = monday + timedelta(days=7)
    assert trade.lead_days == {(1, 3)} and follow.follow_up and not trade.follow_up
    assert hours_apart(monday, event, week, trade) == 0.0  # cites the day before
    assert hours_apart(week, follow, monday, event) == LATER_EVENT  # a follow-up
    assert hours_apart(monday, event, week, event) == 168.0
    # Late, and telling what came of an event the earlier lead did not: no copy of it.
    assert hours_apart(monday, event, monday + timedelta(hours=30), follow) == LATER_EVENT
    assert required_similarity(LATER_EVENT) > 1.0
    assert hours_apart(monday, follow, monday + timedelta(hours=30), follow) == COVERAGE_HOURS
    # Within the day « déjà » is no follow-up: coverage of the day says it too.
    assert hours_apart(monday, event, monday + timedelta(hours=5), follow) == 5.0
    assert hours_apart(None, event, week, trade) == 0.0


def test_hours_apart_one_site_and_two_acts() -> None:
    """One site tells an event once: its second article a day later is its next event,
    unless its title says it corrects the first. Two leads a day apart that tell two kinds
    of act (a vote, an appointment) are two acts. Both: only a near copy joins."""
    monday = datetime(2026, 6, 12, 9, tzinfo=UTC)
    tuesday = monday + timedelta(hours=30)
    rules = story_keys("L'IA interdite", "La Commission publie des lignes directrices.", "a.eu")
    system = story_keys("Système d'IA", "La Commission précise la définition.", "a.eu")
    fixed = story_keys("Rectificatif : système d'IA", "La Commission précise.", "a.eu")
    assert hours_apart(monday, rules, tuesday, system) == COVERAGE_HOURS
    assert hours_apart(monday, rules, tuesday, fixed) == 30.0
    assert hours_apart(monday, rules, monday + timedelta(hours=5), system) == 5.0
    vote = story_keys("Lisandre adopte sa charte", "La Métropole de Lisandre a voté la charte.")
    officer = story_keys("Un administrateur", "Thomas Girardin devient administrateur.")
    assert vote.acts == {"vote"} and officer.acts == {"appointment"}
    assert hours_apart(monday, vote, tuesday, officer) == COVERAGE_HOURS
    assert hours_apart(monday, vote, monday + timedelta(hours=5), officer) == 5.0
    trade = story_keys("Charte de la donnée", "Lisandre adopte à son tour une charte.")
    assert hours_apart(monday, vote, tuesday, trade) == 30.0  # one act, told again


def test_same_story_vetoes_other_bodies_other_figures_and_late_follow_ups() -> None:
    valmont = story_keys("Valmont ouvre son portail", "La ville de Valmont publie 180 jeux.")
    brevannes = story_keys("Brévannes ouvre son portail", "La ville de Brévannes publie 60 jeux.")
    valmont_again = story_keys("Portail de données", "Valmont met en ligne ses jeux de données.")
    report_2025 = story_keys("Rapport 2025", "Le rapport 2025 de la DINUM.")
    report_2026 = story_keys("Rapport 2026", "Le rapport 2026 de la DINUM.")
    assert same_story(0.6, 2, valmont, valmont_again)
    assert not same_story(0.9, 2, valmont, brevannes)  # each names a town the other does not
    assert not same_story(0.9, 2, report_2025, report_2026)  # the years disagree
    assert not same_story(STORY_SIMILARITY - 0.01, 2, valmont, valmont_again)
    # The further apart, the more alike: a follow-up days later is another story.
    assert required_similarity(0) == required_similarity(24) == STORY_SIMILARITY
    assert required_similarity(72) < required_similarity(120) == COPY_SIMILARITY
    assert not same_story(0.6, 100, valmont, valmont_again)
    assert same_story(0.85, 300, valmont, valmont_again)  # a late syndicated copy
    # Without a name tying the leads, words alone must be as alike as whole articles.
    portal = story_keys("Le portail ouvre", "La métropole ouvre son portail de données.")
    buses = story_keys("Transports scolaires", "La région publie les données des bus.")
    assert required_similarity(0, named=False) == UNNAMED_SIMILARITY > STORY_SIMILARITY
    assert not same_story(0.4, 2, portal, buses)
    assert same_story(0.4, 2, valmont, valmont_again)


def test_across_languages_the_same_figures_tie_the_leads() -> None:
    """The Commission's English release and its French coverage write names apart and
    share only cognates; the figures they both give tie them. Days of a month are no
    figures, in English either."""
    release = story_keys(
        "Commission opens €40 million call for data spaces",
        "The Commission has opened a €40 million call, open until 15 September.",
    )
    coverage = story_keys(
        "Espaces de données : 40 millions d'euros",
        "La Commission européenne ouvre un appel de 40 millions d'euros.",
    )
    hubs = story_keys("Douze pôles européens", "La Commission retient 12 pôles européens.")
    assert release.english and not coverage.english
    assert release.lead_figures == coverage.lead_figures == {"40000000"}  # values
    assert same_story(0.34, 20, release, coverage)  # tied: STORY_SIMILARITY
    assert not same_story(0.34, 20, release, hubs)  # figures disagree
    french = story_keys("Espaces de données", "La Commission ouvre un appel de 40 millions.")
    # In one language a figure of both openings ties nameless leads as a name would
    # (round 21): the named floor, not lower; without it, the nameless floor.
    assert same_story(0.34, 20, coverage, french)
    assert not same_story(0.28, 20, coverage, french)
    other = story_keys("Espaces de données", "La Commission ouvre un appel de 25 millions.")
    assert not same_story(0.34, 20, coverage, other)


def test_a_scraper_s_residue_is_no_lead_and_dates_are_no_figures() -> None:
    """A byline, the page's dates and a wire's dateline come before the first sentence of
    many pages: the lead is what follows. Dates and times written with figures, a
    population or a duration are no figures of the event; a quotation ends no sentence."""
    page = story_keys(
        "Valmoreuil met ses chiffres sur la place publique",
        "Par Hélène Carrasco\nPublié le 13/10/2026 à 18h05 Mis à jour le 13/10/2026 à 19h30\n\n"
        "La municipalité a ouvert un portail de 84 jeux de données. Valmoreuil (41 000 "
        "habitants) organise un hackathon de 48 heures.",
    )
    assert not {"helen", "carrasco"} & page.lead_names  # the byline's « Hélène Carrasco »
    assert page.lead_figures == {"84"} and page.figures == {"84"}
    wire = story_keys("Données ouvertes", "PARIS, 24 nov (ATP) - 1 420 collectivités publient.")
    assert wire.lead_figures == {"1420"} and "pari" not in wire.lead_names
    release = story_keys("Guidelines", "Brussels, 1 December 2026 - The Commission published.")
    assert release.lead_years == frozenset()
    live = story_keys(
        "EN DIRECT", "Suivez notre direct\n\n11h52 - Le Département bloque 12 000 dossiers."
    )
    assert live.lead_figures == {"12000"}  # the live entry's first sentence is the lead
    noted = story_keys("Cyberattaque", "(Actualisé avec revendication) - Le groupe Vantablack.")
    assert noted.lead_names == {"vantablack"}
    dated = story_keys("Sainte-Aurène", "Publié le 22 sept. 2026\n\nDepuis lundi, la mairie.")
    assert dated.lead_figures == frozenset()
    quoted = story_keys(
        "IA à haut risque",
        "Elle précise quels systèmes sont « à haut risque » au sens de l'article 12 du "
        "règlement. La suite.",
    )
    assert quoted.lead_figures == {"12"}


def test_streets_codes_and_feasts_name_no_body_and_acronyms_are_spelled_out() -> None:
    """« rue Gambetta » is an address, « CO2 » a code, « la Toussaint » a date: none says
    whose event it is. « La Commission nationale de l'informatique et des libertés » is the
    CNIL."""
    street = story_keys(
        "Mérinval : une amende",
        "Les caméras de la rue Gambetta et de la place du Marché, à Mérinval.",
    )
    assert {"gambetta", "march"} <= street.lead_names and street.subjects == {"merinval"}
    # A headline's « X : » that the text never names again may be a rubric (« Mobilités : »):
    # it ties, it tells no event apart.
    rubric = story_keys("Mobilités : le réseau attribué", "Le conseil de Lerville a voté.")
    assert "mobilites" in rubric.lead_names and rubric.subjects == {"lervil"}
    # « le maire, Yannick Le Floc'h »: a person, with a particle.
    mayor = story_keys("Trémorvan", "À Trémorvan, le maire, Yannick Le Floc'h, confirme.")
    assert {"yannick", "floc"} <= mayor.lead_names and mayor.subjects == {"tremorvan"}
    air = story_keys("Pléveneuc", "Depuis la Toussaint, les capteurs de CO2 de Pléveneuc.")
    assert air.subjects == {"pleveneuc"}
    spelled = story_keys(
        "Mérinval", "La Commission nationale de l'informatique et des libertés a infligé."
    )
    assert {"cnil", "cni"} <= spelled.mentioned


def test_a_name_and_a_figure_of_both_openings_tie_two_articles() -> None:
    """An institution's page and the press days later, in other words: a name and the same
    figure tie them (`TIED_SIMILARITY`, flat over `TIED_HOURS`), and lift the figure
    veto of their leads (« 1 420, contre 1 180 en 2025 » / « baromètre 2026 »)."""
    page = story_keys("Portail open data", "La Ville de Valmoreuil publie 84 jeux de données.")
    press = story_keys(
        "Haute-Dorve : une plateforme",
        "Valmoreuil (41 000 habitants) a ouvert mardi sa plateforme. Elle compte 84 jeux.",
    )
    other = story_keys("Portail", "Valmoreuil publie ses jeux de données, 60 au total.")
    assert page.figures & press.figures == {"84"}
    assert required_similarity(TIED_HOURS, tied=True) == TIED_SIMILARITY < STORY_SIMILARITY
    assert required_similarity(TIED_HOURS + 24, tied=True) > TIED_SIMILARITY
    assert required_similarity(COVERAGE_HOURS, tied=True) == COPY_SIMILARITY
    assert same_story(0.25, 70, page, press)
    assert not same_story(0.25, 70, page, other)  # a name alone: 0.5 needed at 70 hours
    assert not same_story(0.25, 110, page, press)  # a near copy's cosine, nearly
    assert not same_story(0.9, LATER_EVENT, page, press)  # a follow-up stays apart
    report = story_keys("Baromètre 2026 de l'Observatoire", "L'Observatoire compte 1 420 villes.")
    wire = story_keys(
        "Données ouvertes", "1 420 villes, contre 1 180 en 2025, selon l'Observatoire."
    )
    assert same_story(0.6, 3, report, wire)  # the years disagree, the figures agree
    # One kind of act told the same day ties two named leads too, within the day only.
    fine = story_keys("Orlinac : une amende de la CNIL", "La CNIL sanctionne la commune.")
    daily = story_keys("Orlinac sanctionnée", "La commune d'Orlinac écope d'une amende.")
    assert fine.acts & daily.acts == {"sanction"}
    assert same_story(0.25, 20, fine, daily)
    assert not same_story(0.25, 40, fine, daily)
    assert required_similarity(20, same_act=True) == TIED_SIMILARITY


def test_no_pair_under_the_lowest_similarity_is_one_story() -> None:
    """The story index skips candidates whose cosine is under LOWEST_SIMILARITY without
    reading their keys: no date gap, named or not, tied by a figure or an act or not, may
    require less."""
    from veille.collect.stories import LOWEST_SIMILARITY, required_similarity

    for hours in (0.0, 1.0, 23.9, 24.0, 48.0, 71.9, 72.0, 119.0, 120.0, 1000.0):
        for named in (True, False):
            for tied in (True, False):
                for same_act in (True, False):
                    required = required_similarity(hours, named, tied, same_act)
                    assert required >= LOWEST_SIMILARITY
