#!/usr/bin/python3
"""Opens gapmap's map outputs in QGIS (headless) and renders them, to check that QGIS applies
the bundled styles: the .qml beside each GeoJSON and the layer_styles table in gapmap.gpkg.

Needs Debian's QGIS Python bindings: apt-get install --no-install-recommends python3-qgis
qgis-providers. Run with the system Python:

    scripts/qgis-render.py gapmap-out /tmp/map.png

It prints each layer's renderer (graduated on share_fibre_passed, categorized on kind) and
writes a PNG of the Falun-Borlange area (EPSG:3006 extent) of the bundled region.
"""
import sys, os
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from qgis.core import (QgsApplication, QgsVectorLayer, QgsMapSettings, QgsMapRendererSequentialJob, QgsRectangle, QgsCoordinateReferenceSystem)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor
QgsApplication.setPrefixPath("/usr", True)
app = QgsApplication([], False); app.initQgis()
out = sys.argv[1]
layers = []
for uri, name in [(f"{out}/settlements.geojson", "settlements.geojson"), (f"{out}/gaps.geojson", "gaps.geojson"),
                  (f"{out}/gapmap.gpkg|layername=settlements", "gpkg settlements"), (f"{out}/gapmap.gpkg|layername=gaps", "gpkg gaps")]:
    l = QgsVectorLayer(uri, name, "ogr")
    r = l.renderer()
    desc = r.type()
    if r.type() == "categorizedSymbol":
        desc += f" attr={r.classAttribute()} cats={[ (c.value(), c.symbol().color().name()) for c in r.categories()]}"
    if r.type() == "graduatedSymbol":
        desc += f" attr={r.classAttribute()} ranges={[ (round(x.lowerValue(),1), round(x.upperValue(),1), x.symbol().color().name()) for x in r.ranges()]}"
    print(name, l.isValid(), l.featureCount(), desc)
    layers.append(l)
ms = QgsMapSettings()
ms.setLayers([layers[1], layers[0]])
ms.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:3006"))
ms.setExtent(QgsRectangle(520000, 6700000, 560000, 6730000))
ms.setOutputSize(QSize(900, 700)); ms.setBackgroundColor(QColor("white"))
job = QgsMapRendererSequentialJob(ms); job.start(); job.waitForFinished()
job.renderedImage().save(sys.argv[2])
app.exitQgis()
