"""The bundled demo site: French sources and articles written for the project, served on
localhost so `veille demo` and the tests can run the whole pipeline offline."""

from veille.demo.catalog import DemoArticle, DemoSource, demo_manifest, demo_sources
from veille.demo.feeds import demo_feeds_yaml
from veille.demo.site import DemoSite, start_demo_site

__all__ = [
    "DemoArticle",
    "DemoSite",
    "DemoSource",
    "demo_feeds_yaml",
    "demo_manifest",
    "demo_sources",
    "start_demo_site",
]
