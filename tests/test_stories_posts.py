"""Story grouping's reading of an official's post and of a question headline (issue 11,
round 23; docs/dedup.md, « Posts and question headlines »): a title that only names the
post's author is no headline, its signature line names the author's body, an emoji ends a
sentence, and a headline's « ? » starts a new sentence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from veille.collect.stories import (
    TIED_SIMILARITY,
    UNNAMED_SIMILARITY,
    same_story,
)
from veille.collect.storykeys import lead_names, story_keys
from veille.collect.storynames import canonical_name
from veille.collect.storypairs import PairArticle, StoryPair, grouped
from veille.text.french import stem, story_words
from veille.text.leads import headline_of, post_author, post_role

POST = (
    "Julien Besnard · Vice-président de la Région Val-de-Morne, chargé du numérique\n"
    "Aujourd'hui, nous avons lancé Morne Data 🚀 Une plateforme gratuite pour que TOUTES "
    "les communes publient leurs données. Merci aux équipes !"
)
RELEASE = (
    "La Région Val-de-Morne lance aujourd'hui « Morne Data », une plateforme régionale de "
    "publication des données des communes et des intercommunalités."
)


def test_a_title_naming_only_the_author_is_no_headline() -> None:
    assert post_author("Post de Sandrine Maupas") == "Sandrine Maupas"
    assert post_author("Post d'Odile Franceschi") == "Odile Franceschi"
    assert post_author("Publication de Yannick Le Floc'h") == "Yannick Le Floc'h"
    assert headline_of("Post de Sandrine Maupas") == ""
    # a headline that says something is one, whatever its first word
    for title in (
        "Post de Valmont : la ville ouvre son portail",
        "Publication du rapport annuel de la Cnil",
        "Message d'alerte de la préfecture",
    ):
        assert post_author(title) == ""
        assert headline_of(title) == title
    assert headline_of("VIDÉO. Coup de pelleteuse") == "Coup de pelleteuse"


def test_a_post_ties_by_its_author_and_its_signature_but_names_no_subject() -> None:
    post = story_keys("Post de Julien Besnard", POST, "linkedin.com")
    release = story_keys("La Région lance Morne Data", RELEASE, "valdemorne.fr")
    assert {"julien", "besnard"} <= post.lead_names  # the author ties…
    assert not post.subjects & {"julien", "besnard"}  # …and tells no event apart
    assert "morn" in post.opening and "morn" in post.mentioned  # the signature's body
    # « 🚀 Une plateforme… », « TOUTES »: a new sentence, not names of the lead
    assert "une" not in post.lead_names and "toutes" not in post.lead_names
    assert {"julien", "besnard"} <= lead_names(f"Post de Julien Besnard\n{POST}")
    # the release's body is named in the post's signature, no veto: the named floor, lowered
    # to the tied one the same day on two sites
    assert same_story(TIED_SIMILARITY, 4, release, post, published_hours=4)
    assert not same_story(TIED_SIMILARITY - 0.01, 4, release, post, published_hours=4)


def test_a_post_signed_from_another_body_is_held_to_the_nameless_floor() -> None:
    """The signature ties a post to its author's body only: another body's release meets it
    on words alone (`UNNAMED_SIMILARITY`)."""
    post = story_keys(
        "Post de Claire Dumoulin",
        "Claire Dumoulin · Maire de Lorvac\nNous avons ouvert notre portail de données 🎉 "
        "Merci aux agents !",
        "linkedin.com",
    )
    release = story_keys(
        "Valmont ouvre son portail", "La ville de Valmont ouvre son portail de données.", "v.fr"
    )
    assert not same_story(UNNAMED_SIMILARITY - 0.01, 2, release, post, published_hours=2)
    assert not same_story(0.45, 2, release, post, published_hours=2)


def test_a_question_headline_starts_a_sentence_after_its_question_mark() -> None:
    """« … en retard ? Votre téléphone le sait » and « … maire ? Verdict samedi »: the word
    after « ? » is a sentence's first word, not a body that would veto the daily's angle."""
    daily = story_keys(
        "Pontverre : votre bus est en retard ? Votre téléphone le sait désormais",
        "Les usagers des bus de Pontverre suivent l'heure réelle de passage des bus.",
        "daily.fr",
    )
    assert "votr" not in daily.subjects and "votr" not in daily.lead_names
    verdict = story_keys(
        "Sarlac : Martine Obert élue maire ? Verdict au conseil de samedi",
        "La liste de Martine Obert a remporté dimanche l'élection partielle de Sarlac.",
        "daily.fr",
    )
    assert "verdict" not in verdict.subjects
    # a name capitalised after the question mark stays a name when the text writes it so
    named = story_keys(
        "Qui succède au maire ? Valmont vote jeudi",
        "Le conseil de Valmont élira jeudi son nouveau maire.",
        "daily.fr",
    )
    assert "valmont" in named.lead_names


def test_a_post_whose_lead_names_nothing_is_tied_by_its_signature() -> None:
    """A president's post opens on a hook naming nobody (« L'IA est déjà dans les
    bureaux. »): its signature names the body whose release it echoes; without it, the two
    would meet on words alone."""
    text = "L'IA est déjà dans les bureaux. Nous formons nos agents dès cet automne."
    release = story_keys(
        "500 agents formés à l'IA",
        "Le Département de la Haute-Vionne forme 500 de ses 2 300 agents à l'IA.",
        "haute-vionne.fr",
    )
    signed = story_keys(
        "Post de Philippe Garrigou",
        f"Philippe Garrigou · Président du Département de la Haute-Vionne\n{text}",
        "linkedin.com",
    )
    unsigned = story_keys("Post de Philippe Garrigou", text, "linkedin.com")
    assert same_story(TIED_SIMILARITY, 6, release, signed, published_hours=6)
    assert not same_story(TIED_SIMILARITY, 6, release, unsigned, published_hours=6)


# Round 24 (press7 opened) (docs/dedup.md, « Posts signed, whatever their title »).
SIGNED = (
    "Théo Baradel · Vice-président de Rocheval Métropole, délégué au numérique\n1 j ·\n\n"
    "Hier soir, notre conseil a adopté la charte métropolitaine de la donnée. Douze "
    "engagements, un comité d'éthique indépendant et des clauses de données dans nos contrats."
)


def test_a_signature_line_gives_the_role_not_a_masthead_nor_a_date() -> None:
    assert post_role(SIGNED) == "Vice-président de Rocheval Métropole, délégué au numérique"
    assert post_role("Gérald Mauboussin · Maire de Frémontel\n19 h ·\n\nChers…") == (
        "Maire de Frémontel"
    )
    for text in (
        "LA LETTRE DATA PUBLIQUE · n° 213\nFinancement. L'ANCT ouvre un appel.",
        "Insee Première · Paru le 05/11/2026\nEn 2025, 14 % des personnes…",
        "Par Antoine Brézet · 24 novembre 2026 · 5 min de lecture\nLe texte.",
        "La Ville ouvre son portail. Les données sont en ligne · 84 jeux.",
    ):
        assert post_role(text) == ""


def test_a_post_speaks_for_its_signature_body_not_for_its_social_network() -> None:
    """« Fier de ce vote » on linkedin.com names nobody: its site is its author's body
    (« Rocheval »), not « linkedin », so it meets the body's minutes and not another's."""
    post = story_keys("Fier de ce vote", SIGNED, "linkedin.com")
    assert post.site == {"rocheval"} and "linkedin" not in post.subjects
    assert "rocheval" in lead_names(f"Fier de ce vote\n{SIGNED}")  # the index finds it so
    assert {stem(w) for w in story_words("charte adopté")} <= post.headline  # a headline
    minutes = story_keys(
        "Conseil métropolitain du 15 octobre 2026 - Délibération n° 2026-10-147 : charte",
        "Le conseil de Rocheval Métropole adopte la charte métropolitaine de la donnée.",
        "rocheval-metropole.fr",
    )
    assert same_story(0.45, 0, minutes, post)
    other = story_keys(
        "Conseil métropolitain du 15 octobre 2026 : charte",
        "Le conseil de la Métropole adopte la charte métropolitaine de la donnée.",
        "lisandre-metropole.fr",
    )
    assert not same_story(0.45, 0, other, post)


def test_a_demonym_that_doubles_its_place_s_consonant_names_the_place() -> None:
    assert canonical_name("fremontelloises") == canonical_name("fremontel")
    assert canonical_name("marseillais") == canonical_name("marseille")
    assert canonical_name("lyonnais") == canonical_name("lyon")


def test_a_post_titled_as_posts_are_joins_the_brief_of_its_vote() -> None:
    """The post's title (« Fier de ce vote ») shares no word with the brief's, nor its lead
    a name: the story index finds the brief by the post's first sentence."""
    brief = PairArticle(
        "Données : la Métropole adopte sa charte",
        "Les élus métropolitains ont voté jeudi soir une charte de la donnée en douze "
        "points (96 voix pour, 4 contre, 11 abstentions). Un comité d'éthique verra le jour.",
        "la-voix-rochevaloise.fr",
        datetime(2026, 10, 15, 20, 10, tzinfo=UTC),
    )
    post = PairArticle(
        "Fier de ce vote", SIGNED, "linkedin.com", brief.published + timedelta(hours=11)
    )
    assert grouped(StoryPair("post", True, brief, post, ""))
