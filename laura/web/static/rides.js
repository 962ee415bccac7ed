/* Laura rides: the city map (a click sets the pickup, then the drop-off) and the simulated drive (the
   driver's page posts positions to /driver/location, moving toward the pickup or the drop-off), so one
   person with two windows can play rider and driver. Everything here is optional: the forms work without
   it. The projection is the server's (laura/web/ridemap.py), read from the SVG's data-* attributes. */
(function () {
  "use strict";
  var SVG_NS = "http://www.w3.org/2000/svg";
  var STEP_METRES = 60;      /* per report: about 140 km/h at one report every 1.5 s, under the fraud limit */
  var STEP_MS = 1500;
  var HEARTBEAT_MS = 10000;  /* an online driver's position stays fresh (the server keeps it 60 s) */

  function frame(svg) {
    var d = svg.dataset;
    return { north: +d.north, south: +d.south, west: +d.west, east: +d.east, width: +d.width, height: +d.height };
  }
  function toXY(f, lat, lon) {
    return [(lon - f.west) / (f.east - f.west) * f.width, (f.north - lat) / (f.north - f.south) * f.height];
  }
  function toLatLon(f, x, y) {
    return [f.north - y / f.height * (f.north - f.south), f.west + x / f.width * (f.east - f.west)];
  }
  function round(value) { return Math.round(value * 1e6) / 1e6; }

  function marker(svg, kind) {
    var found = svg.querySelector('[data-marker="' + kind + '"]');
    if (!found) {
      found = document.createElementNS(SVG_NS, "circle");
      found.setAttribute("class", "marker " + kind);
      found.setAttribute("data-marker", kind);
      found.setAttribute("r", "9");
      svg.appendChild(found);
    }
    return found;
  }
  function place(svg, kind, lat, lon) {
    var xy = toXY(frame(svg), lat, lon);
    var dot = marker(svg, kind);
    dot.setAttribute("cx", xy[0].toFixed(1));
    dot.setAttribute("cy", xy[1].toFixed(1));
    drawRoute(svg);
  }
  function drawRoute(svg) {
    var a = svg.querySelector('[data-marker="pickup"]'), b = svg.querySelector('[data-marker="dropoff"]');
    if (!a || !b) { return; }
    var line = svg.querySelector("line.route");
    if (!line) {
      line = document.createElementNS(SVG_NS, "line");
      line.setAttribute("class", "route");
      svg.insertBefore(line, a);
    }
    line.setAttribute("x1", a.getAttribute("cx")); line.setAttribute("y1", a.getAttribute("cy"));
    line.setAttribute("x2", b.getAttribute("cx")); line.setAttribute("y2", b.getAttribute("cy"));
  }

  /* The request form: click the map, or pick a place, or type coordinates. */
  function pickForm(form) {
    var svg = form.querySelector("svg[data-pick-map]");
    var announce = form.querySelector("[data-map-announce]");
    var next = "pickup";
    if (!svg) { return; }
    function field(name) { return form.querySelector('[name="' + name + '"]'); }
    function set(kind, lat, lon, fromPlace) {
      if (!fromPlace) { field(kind + "_place").value = ""; }
      field(kind + "_lat").value = round(lat);
      field(kind + "_lon").value = round(lon);
      place(svg, kind, lat, lon);
      if (announce) {
        var legend = form.querySelector('[data-point="' + kind + '"] legend');
        announce.textContent = (legend ? legend.textContent : kind) + ": " + round(lat) + ", " + round(lon);
      }
    }
    svg.addEventListener("click", function (event) {
      var point = svg.createSVGPoint();
      point.x = event.clientX; point.y = event.clientY;
      var local = point.matrixTransform(svg.getScreenCTM().inverse());
      var ll = toLatLon(frame(svg), local.x, local.y);
      set(next, ll[0], ll[1], false);
      next = next === "pickup" ? "dropoff" : "pickup";
    });
    ["pickup", "dropoff"].forEach(function (kind) {
      var select = field(kind + "_place");
      select.addEventListener("change", function () {
        var option = select.options[select.selectedIndex];
        if (option && option.dataset.lat) { set(kind, +option.dataset.lat, +option.dataset.lon, true); }
      });
      [field(kind + "_lat"), field(kind + "_lon")].forEach(function (input) {
        input.addEventListener("change", function () {
          var lat = parseFloat(field(kind + "_lat").value.replace(",", "."));
          var lon = parseFloat(field(kind + "_lon").value.replace(",", "."));
          select.value = "";
          if (!isNaN(lat) && !isNaN(lon)) { place(svg, kind, lat, lon); }
        });
      });
    });
  }

  /* The simulated drive: report a position, step by step toward a target. */
  function metres(a, b) {
    var rad = Math.PI / 180, dLat = (b[0] - a[0]) * rad, dLon = (b[1] - a[1]) * rad;
    var h = Math.sin(dLat / 2) * Math.sin(dLat / 2) +
      Math.cos(a[0] * rad) * Math.cos(b[0] * rad) * Math.sin(dLon / 2) * Math.sin(dLon / 2);
    return 6371000 * 2 * Math.atan2(Math.sqrt(h), Math.sqrt(1 - h));
  }
  function driver(box) {
    var svg = box.closest(".card").querySelector("svg");
    var status = box.querySelector("[data-drive-status]");
    var at = [+box.dataset.lat, +box.dataset.lon];
    var timer = null;
    function say(text) { if (status) { status.textContent = text; } }
    function report(point) {
      var body = new URLSearchParams();
      body.append("csrftoken", box.dataset.csrf);
      body.append("lat", round(point[0]));
      body.append("lon", round(point[1]));
      return fetch("/driver/location", { method: "POST", body: body, credentials: "same-origin" })
        .then(function (response) {
          return response.json().then(function (data) {
            if (!response.ok) { throw new Error(data.error || String(response.status)); }
            at = point;
            if (svg) { place(svg, "driver", point[0], point[1]); }
            return data;
          });
        });
    }
    function driveTo(target, done) {
      if (timer) { clearInterval(timer); }
      box.dataset.driving = "true";
      timer = setInterval(function () {
        var left = metres(at, target);
        var share = left <= STEP_METRES ? 1 : STEP_METRES / left;
        var point = [at[0] + (target[0] - at[0]) * share, at[1] + (target[1] - at[1]) * share];
        report(point).then(function () {
          say(Math.round(Math.max(0, left - STEP_METRES)) + " m");
          if (share === 1) {
            clearInterval(timer); timer = null; box.dataset.driving = "arrived";
            if (done) { done(); }
          }
        }).catch(function (error) { clearInterval(timer); timer = null; say(error.message); });
      }, STEP_MS);
    }
    var simulate = box.querySelector("[data-simulate]");
    if (simulate) {
      simulate.addEventListener("click", function () {
        simulate.setAttribute("aria-disabled", "true");
        driveTo([+box.dataset.toLat, +box.dataset.toLon], function () {
          simulate.removeAttribute("aria-disabled");
          say(simulate.dataset.arrived || "✓");
        });
      });
    }
    var moveTo = box.querySelector("[data-move-to]");
    if (moveTo) {
      moveTo.addEventListener("change", function () {
        var option = moveTo.options[moveTo.selectedIndex];
        if (option && option.dataset.lat) { driveTo([+option.dataset.lat, +option.dataset.lon]); }
      });
    }
    if (box.dataset.online === "true") {
      report(at).catch(function (error) { say(error.message); });
      setInterval(function () {
        if (!timer) { report(at).catch(function (error) { say(error.message); }); }
      }, HEARTBEAT_MS);
    }
  }

  /* Live events (static/live.js): the driver's dot follows `driver.location.updated`; a status the panel
     does not show yet refreshes it; an approval reloads the waiting driver's page. */
  function live() {
    var panel = document.getElementById("ride-panel");
    document.body.addEventListener("laura:driver.location.updated", function (event) {
      var data = event.detail || {};
      if (!panel || (data.rideId && data.rideId !== panel.dataset.rideId)) { return; }
      var svg = panel.querySelector("svg");
      if (svg && typeof data.lat === "number") { place(svg, "driver", data.lat, data.lon); }
      var eta = panel.querySelector("[data-eta]");
      if (eta && typeof data.pickupEtaSeconds === "number") {
        eta.textContent = eta.dataset.etaText.replace("{minutes}", String(Math.max(1, Math.round(data.pickupEtaSeconds / 60))));
      }
      var shown = panel.querySelector("[data-status]");
      if (shown && data.status && shown.dataset.status !== data.status && window.htmx) {
        window.htmx.trigger(panel, "ride-refresh");
      }
    });
    ["laura:driver.approved", "laura:driver.rejected"].forEach(function (name) {
      document.body.addEventListener(name, function () {
        if (document.querySelector('[data-testid="waiting-approval"]')) { location.reload(); }
      });
    });
    document.body.addEventListener("htmx:afterSwap", function (event) {
      event.target.querySelectorAll("[data-drive]").forEach(driver);
    });
  }

  function start() {
    document.querySelectorAll("form[data-ride-form]").forEach(pickForm);
    document.querySelectorAll("[data-drive]").forEach(driver);
    live();
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
