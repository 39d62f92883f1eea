"""`veille classify …`: train, evaluate and explain the theme classifier."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from veille.cli.common import handles_errors, open_db, out, settings_from_env
from veille.cli.options import ConfigOpt
from veille.config import Settings

classify_app = typer.Typer(
    help="Classifieur de thèmes : entraîner, évaluer, expliquer.", no_args_is_help=True
)


def _print_metrics(title: str, figures: dict[str, Any]) -> None:
    table = Table(title=title, show_header=True)
    for col in ("thème", "précision", "rappel", "F1", "effectif"):
        table.add_column(col, justify="right" if col != "thème" else "left")
    for theme, m in figures["themes"].items():
        table.add_row(
            theme,
            f"{m['precision']:.3f}",
            f"{m['recall']:.3f}",
            f"{m['f1']:.3f}",
            str(m["support"]),
        )
    rel = figures["relevance"]
    table.add_row(
        "dans le sujet", f"{rel['precision']:.3f}", f"{rel['recall']:.3f}", f"{rel['f1']:.3f}", ""
    )
    out.print(table)
    out.print(f"macro-F1 sur les trois thèmes : {figures['macro_f1']:.3f}")


@classify_app.command("eval")
@handles_errors
def classify_eval(
    file: Annotated[Path, typer.Argument(help="Le fichier JSON Lines étiqueté.")],
    json_out: Annotated[
        bool, typer.Option("--json", help="Afficher les chiffres en JSON.")
    ] = False,
    config: ConfigOpt = None,
) -> None:
    """Évaluer le classifieur sur un fichier JSON Lines de {title, text, labels}.

    Avec le modèle entraîné sur le corpus d'amorçage fourni (ni base ni réseau) et les
    mots-clés des thèmes de feeds.yaml quand ce fichier existe.
    """
    from veille.classify.classifier import Classifier, ClassItem, default_model
    from veille.classify.corpus import read_jsonl
    from veille.classify.evaluate import metrics
    from veille.classify.service import keywords_of
    from veille.sources import load_feeds_config

    items = read_jsonl(file)
    if not items:
        from veille.errors import ConfigError

        raise ConfigError(f"{file} : aucun élément étiqueté dans le fichier.")
    settings = settings_from_env(config)
    feeds = load_feeds_config(settings.config_file) if settings.config_file.exists() else None
    classifier = Classifier(default_model(), keywords_of(feeds))
    predictions = classifier.predict([ClassItem(it.title, it.text, it.lang) for it in items])
    figures = metrics([it.labels for it in items], [frozenset(p.themes) for p in predictions])
    if json_out:
        sys.stdout.write(json.dumps(figures) + "\n")
    else:
        _print_metrics(f"{file} ({len(items)} éléments)", figures)


def _classifier_and_sessions(settings: Settings) -> tuple[Any, Any]:
    from veille.classify.service import load_classifier
    from veille.db.engine import transaction
    from veille.sources import load_feeds_config

    sessions = open_db(settings)
    feeds = load_feeds_config(settings.config_file) if settings.config_file.exists() else None
    with transaction(sessions) as session:
        classifier = load_classifier(session, feeds)
    return classifier, sessions


@classify_app.command("train")
@handles_errors
def classify_train(config: ConfigOpt = None) -> None:
    """Réentraîner le modèle et en faire le modèle actif.

    Sur le corpus d'amorçage fourni et les étiquettes du délégué.
    """
    from veille.classify.service import retrain
    from veille.db.engine import transaction

    sessions = open_db(settings_from_env(config))
    with transaction(sessions) as session:
        model = retrain(session)
    out.print(
        f"Modèle {model.version} entraîné : {model.training_size} éléments "
        f"(dont {model.editor_labels} étiquetés par le délégué)."
    )
    _print_metrics("Validation croisée (5 plis)", model.cv_metrics)


@classify_app.command("reclassify")
@handles_errors
def classify_reclassify(config: ConfigOpt = None) -> None:
    """Reclasser et renoter toute l'archive avec le modèle actif."""
    from veille.classify.service import reclassify_all

    classifier, sessions = _classifier_and_sessions(settings_from_env(config))
    done, on_topic = reclassify_all(sessions, classifier)
    out.print(f"{done} article(s) reclassé(s) : {on_topic} dans le sujet.")


@classify_app.command("explain")
@handles_errors
def classify_explain(
    article: Annotated[str, typer.Argument(help="Numéro ou URL de l'article.")],
    config: ConfigOpt = None,
    json_out: Annotated[bool, typer.Option("--json", help="Afficher en JSON.")] = False,
) -> None:
    """Pourquoi un article a ses thèmes et sa valeur.

    Ses mots qui ont pesé, les mots-clés trouvés, la certitude en mots, chaque part de sa
    valeur.
    """
    from veille.classify.service import explain_article
    from veille.errors import ConfigError

    classifier, sessions = _classifier_and_sessions(settings_from_env(config))
    with sessions() as session:
        found = explain_article(session, classifier, article)
    if found is None:
        raise ConfigError(f"Aucun article enregistré ne correspond à « {article} ».")
    if json_out:
        sys.stdout.write(json.dumps(found.__dict__, ensure_ascii=False, default=list) + "\n")
        return
    from veille.classify.reasons import OUT, describe

    out.print(f"[bold]{found.title}[/] (n° {found.article_id}, modèle {found.model_version})")
    for theme in found.probabilities:
        said = found.certainty.get(theme, OUT)
        if said == OUT:
            out.print(f"  {theme} : hors thème")
            continue
        quoted = found.quotes.get(theme, {})
        origin = found.themes.get(theme, (0.0, "model"))[1]
        passage = next(iter(quoted.get("passage", [])), None)
        why = describe(origin, quoted.get("text", []), quoted.get("keywords", []), passage)
        kept = "" if theme in found.themes else " (non retenu)"
        out.print(f"  {theme} : {said}{kept} — {why}", markup=False, highlight=False)
    if found.score is not None:
        out.print(f"Valeur : {found.score:.1f}/100")
        for name, comp in found.components.items():
            out.print(f"  {name}: {comp['points']}/{comp['max']} — {comp['why']}")
