"""Story grouping's reading of headlines on a person and of posts titled by their first
line (issue 11, round 25; docs/dedup.md, « Portraits and posts: the subject is in the
lead »): a post's title that its text repeats as its first sentence is no lead, the next
sentence is; a person a headline or sentence opens on (« Martin Lestrade veut… ») is a
person, who ties two articles but names no body; a compound name (« Belle-Rive ») is also
written as a body's site writes it (« bellerive-region.fr »)."""

from __future__ import annotations

from veille.collect import stories
from veille.collect.storykeys import lead_names, story_keys, title_words
from veille.collect.storynames import joined_names
from veille.text.leads import body_of

POST_TITLE = "Nouvelle étape !"
POST_TEXT = (
    "Nouvelle étape ! Je rejoins aujourd'hui Vallorge Agglomération comme cheffe de projet "
    "des données. Un poste créé pour mettre en œuvre la stratégie votée en juin."
)


def test_a_title_the_text_repeats_as_its_first_sentence_is_no_lead() -> None:
    assert body_of(POST_TEXT, POST_TITLE).startswith("Je rejoins aujourd'hui Vallorge")
    # the title without its end punctuation, or on a line of its own
    assert body_of(POST_TEXT, "Nouvelle étape").startswith("Je rejoins")
    assert body_of("Le bus prend la route\nÀ partir du lundi 9.", "Le bus prend la route") == (
        "À partir du lundi 9."
    )
    # a title that only opens a longer first sentence stays in it
    text = "La Cnil publie son rapport annuel : 17 000 plaintes reçues."
    assert body_of(text, "La Cnil publie son rapport annuel") == text
    assert body_of(POST_TITLE, POST_TITLE) == POST_TITLE  # nothing after it: kept


def test_a_post_titled_by_its_first_line_is_read_from_its_next_sentence() -> None:
    keys = story_keys(POST_TITLE, POST_TEXT, "reseau-pro.example")
    assert "vallorg" in keys.lead_names
    # the story index files it under the body it names, and by the words of that sentence
    assert "vallorg" in lead_names(f"{POST_TITLE}\n{POST_TEXT}")
    assert title_words(f"{POST_TITLE}\n{POST_TEXT}") == title_words(POST_TITLE)


PORTRAIT_TITLE = "Martin Lestrade veut faire de la donnée « un bien commun »"
PORTRAIT_TEXT = (
    "Le maire a présenté lundi soir en conseil municipal un plan de quatre ans pour publier "
    "120 jeux de données. Le texte a été adopté, l'opposition s'abstenant."
)
TOWN_TITLE = "Une stratégie de la donnée pour mieux servir les habitants"
TOWN_TEXT = (
    "Lors du conseil municipal du 23 novembre, la Ville de Brenouille a adopté sa stratégie "
    "de la donnée 2027-2030 : 120 jeux de données publiés en quatre ans."
)


def test_a_person_a_headline_opens_on_is_a_person() -> None:
    portrait = story_keys(PORTRAIT_TITLE, PORTRAIT_TEXT, "echo-du-val.example")
    assert "lestrad" not in portrait.subjects  # the surname is no body
    assert "lestrad" in portrait.lead_names  # still a tie
    # so the town's own page is not vetoed by a name it never writes
    town = story_keys(TOWN_TITLE, TOWN_TEXT, "brenouille.example")
    assert stories.same_story(0.4, 3.0, portrait, town)
    # the same at a sentence's start (an appointment's page)
    keys = story_keys(
        "Une nouvelle directrice des données",
        "Claire Vandamme a pris ses fonctions lundi à la Métropole de Brenouille.",
        "x.example",
    )
    assert keys.subjects == frozenset({"brenouil"})


def test_two_capitalised_words_that_are_no_person_still_name_a_body() -> None:
    # a place the text names alone elsewhere
    service = story_keys(
        "Allô Ravignac répond désormais le samedi",
        "Le service téléphonique de la ville de Ravignac ouvre le samedi matin.",
        "x.example",
    )
    assert "ravignac" in service.subjects
    # a body of a generic kind, a brand of common nouns, a function word first
    assert (
        "rocheval"
        in story_keys(
            "Rocheval Métropole vote sa charte", "Le conseil de Rocheval a voté.", "x.example"
        ).subjects
    )
    assert (
        "aubrevoi"
        in story_keys(
            "Aubrevoie Données 2030 est votée", "La stratégie de données d'Aubrevoie.", "x.example"
        ).subjects
    )
    assert (
        "ravignac"
        in story_keys(
            "En Ravignac, la fibre arrive", "Le réseau dessert 400 foyers de plus.", "x.example"
        ).subjects
    )


def test_a_compound_name_is_also_written_as_its_site_writes_it() -> None:
    # a body's own page names nobody: its site does (« la Région investit »)
    own = story_keys(
        "Stratégie régionale de la donnée : la Région investit 9 M€",
        "Réunis en séance plénière, les élus régionaux ont adopté la stratégie de la donnée.",
        "bellerive-region.example",
    )
    assert own.own and own.subjects == frozenset({"belleriv"})
    press = story_keys(
        "Données : ce que contient la stratégie votée par la Région",
        "Neuf millions d'euros sur quatre ans : la Région Belle-Rive a adopté jeudi sa "
        "stratégie de la donnée.",
        "journal-du-val.example",
    )
    assert "belleriv" in press.mentioned  # « Belle-Rive » as « bellerive-region »
    assert "belleriv" in press.opening  # what the story index looks candidates up by
    assert stories.same_story(0.4, 13.0, own, press)
    # two capitalised pieces are needed: « anti-Covid », « Paris-2024 » are no compounds
    assert joined_names("Le plan anti-Covid de Paris-2024") == set()
    assert joined_names("Val-d'Ysse, Saint-Privat-d'Erbe") == {"valdyss", "saintprivatderb"}


def test_a_lead_whose_only_figures_are_asides_states_none() -> None:
    daily = story_keys(
        "Le Département met 21 000 subventions en ligne",
        "Depuis mardi, chacun peut savoir combien le Département de la Sorbe a versé.",
    )
    brief = story_keys(
        "Open data : la Sorbe publie ses subventions sans plancher",
        "Au-delà de l'obligation légale (23 000 euros), la Sorbe a publié mardi toutes ses "
        "subventions depuis 2020.",
    )
    assert daily.lead_figures == {"21000"} and brief.lead_figures == frozenset()
    assert stories.same_story(0.35, 14.0, daily, brief)
    # beside a figure of its own, an aside still counts: it may agree with another lead's
    weekly = story_keys(
        "Chiffre de la semaine",
        "93 % des locaux sont raccordables, selon l'Arcep (26,4 millions d'abonnements).",
    )
    assert weekly.lead_figures == {"93", "26400000"}


def test_the_appointed_persons_own_post_tells_an_appointment() -> None:
    post = story_keys(POST_TITLE, POST_TEXT, "reseau-pro.example")
    rubric = story_keys(
        "Nominations",
        "Vallorge Agglomération : Léa Fontanieu, 41 ans, devient cheffe de projet des données.",
        "gazette-des-communes.example",
    )
    assert post.acts == rubric.acts == {"appointment"}
    assert (
        "appointment"
        in story_keys(
            "Nouvelle étape",
            "Ravie de rejoindre la Ville de Sorbe comme administratrice.",
            "x.example",
        ).acts
    )
    # one kind of act two days apart: the named floor lowered as within the day
    assert stories.same_story(0.37, 47.0, post, rubric)
    # a body that joins a network takes no post
    assert not story_keys("Réseau", "Lauzerac rejoint le réseau des villes ouvertes.").acts


def test_around_the_clock_is_no_figure() -> None:
    release = story_keys(
        "« Célia », un assistant pour les allocataires du RSA",
        "Le Département de la Sorbe lance ce lundi Célia, destiné aux 14 500 foyers "
        "allocataires du RSA.",
    )
    teaser = story_keys(
        "VIDÉO. Sorbe : un robot conversationnel pour les allocataires du RSA",
        "Le Département lance Célia, qui répond 24 heures sur 24 aux bénéficiaires du RSA.",
    )
    assert teaser.lead_figures == frozenset() and teaser.figures == frozenset()
    assert stories.same_story(0.38, 9.0, release, teaser)
    for idiom in ("7 jours sur 7", "24h/24", "7j/7"):
        assert not story_keys("Un service", f"Ouvert {idiom} aux habitants.").lead_figures
    assert story_keys("Un service", "Ouvert 24 heures sur 48.").lead_figures == {"48"}
