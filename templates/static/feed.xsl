<?xml version="1.0" encoding="utf-8"?>
<!-- A feed of veille opened in a browser: a French page saying what the feed is, how to
     follow it in a feed reader, and its entries. Feed readers ignore this stylesheet.
     No inline script or style (the app's Content-Security-Policy): archive.css styles it. -->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:a="http://www.w3.org/2005/Atom"
    exclude-result-prefixes="a">
  <xsl:output method="html" encoding="utf-8" indent="yes"
              doctype-system="about:legacy-compat"/>

  <xsl:variable name="self" select="/a:feed/a:link[@rel='self']/@href"/>
  <xsl:variable name="page" select="/a:feed/a:link[@rel='alternate']/@href"/>

  <!-- « 7 décembre 2026 », as the archive writes dates (the day of the feed's timestamp). -->
  <xsl:template name="day">
    <xsl:param name="when"/>
    <xsl:variable name="m" select="number(substring($when, 6, 2))"/>
    <xsl:value-of select="concat(number(substring($when, 9, 2)), ' ')"/>
    <xsl:choose>
      <xsl:when test="$m = 1">janvier</xsl:when>
      <xsl:when test="$m = 2">février</xsl:when>
      <xsl:when test="$m = 3">mars</xsl:when>
      <xsl:when test="$m = 4">avril</xsl:when>
      <xsl:when test="$m = 5">mai</xsl:when>
      <xsl:when test="$m = 6">juin</xsl:when>
      <xsl:when test="$m = 7">juillet</xsl:when>
      <xsl:when test="$m = 8">août</xsl:when>
      <xsl:when test="$m = 9">septembre</xsl:when>
      <xsl:when test="$m = 10">octobre</xsl:when>
      <xsl:when test="$m = 11">novembre</xsl:when>
      <xsl:otherwise>décembre</xsl:otherwise>
    </xsl:choose>
    <xsl:value-of select="concat(' ', substring($when, 1, 4))"/>
  </xsl:template>

  <xsl:template match="/">
    <html lang="fr">
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="/a:feed/a:title"/> (flux Atom)</title>
        <link rel="icon" href="/static/favicon.svg" type="image/svg+xml"/>
        <link rel="stylesheet" href="/static/archive.css"/>
      </head>
      <body class="feed-page">
        <header class="site-header">
          <p class="brand"><a href="/">veille</a></p>
        </header>
        <main id="contenu">
          <p class="feed-kind">Flux Atom</p>
          <h1><xsl:value-of select="/a:feed/a:title"/></h1>
          <xsl:if test="/a:feed/a:subtitle">
            <p class="lead"><xsl:value-of select="/a:feed/a:subtitle"/></p>
          </xsl:if>
          <section class="feed-howto" aria-labelledby="comment-suivre">
            <h2 id="comment-suivre">Suivre ce flux</h2>
            <p>Cette page est un <strong>flux Atom</strong> : un lecteur de flux (Feedly,
              Inoreader, NetNewsWire, Thunderbird, Miniflux…) vous montre ses nouveaux
              articles dès leur publication, sans inscription ni courriel.</p>
            <ol>
              <li>Copiez l'adresse de ce flux :
                <code class="feed-url"><xsl:value-of select="$self"/></code></li>
              <li>Dans votre lecteur, choisissez « Ajouter un flux » (ou « S'abonner »)
                et collez l'adresse.</li>
            </ol>
            <p><a href="{$page}">Voir ces articles dans l'archive</a></p>
          </section>
          <section aria-labelledby="derniers">
            <h2 id="derniers">Derniers articles
              (<xsl:value-of select="count(/a:feed/a:entry)"/>)</h2>
            <xsl:choose>
              <xsl:when test="/a:feed/a:entry">
                <ul class="feed-entries">
                  <xsl:for-each select="/a:feed/a:entry">
                    <li>
                      <a href="{a:link[@rel='alternate']/@href}">
                        <xsl:value-of select="a:title"/>
                      </a>
                      <span class="meta">
                        <xsl:text> — </xsl:text>
                        <xsl:value-of select="a:source/a:title | a:author/a:name[not(../../a:source)]"/>
                        <xsl:text>, </xsl:text>
                        <xsl:call-template name="day">
                          <xsl:with-param name="when" select="a:published"/>
                        </xsl:call-template>
                      </span>
                      <xsl:if test="a:summary">
                        <p class="summary"><xsl:value-of select="a:summary"/></p>
                      </xsl:if>
                    </li>
                  </xsl:for-each>
                </ul>
              </xsl:when>
              <xsl:otherwise>
                <p>Aucun article pour l'instant.</p>
              </xsl:otherwise>
            </xsl:choose>
          </section>
        </main>
      </body>
    </html>
  </xsl:template>
</xsl:stylesheet>
