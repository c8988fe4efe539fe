/*
 * The time zone list follows the country (creating an organization, its settings).
 *
 * The country <select> names, in data-time-zones, a JSON block (Django's json_script) with each
 * country's zones. When the country changes, its zones move to the top of the time zone list;
 * a country with one clock gets its zone chosen, one with several leaves the choice to the
 * person. The hidden zone_country field tells the server which country the list is for.
 * Without this script the server does the same when the form is sent.
 */
(function () {
  "use strict";

  function inListOrder(a, b) {
    // UTC closes the list, as on the server.
    if (a.value === "UTC" || b.value === "UTC") {
      return a.value === "UTC" ? 1 : -1;
    }
    return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
  }

  function group(label, options) {
    var element = document.createElement("optgroup");
    element.label = label;
    options.forEach(function (option) {
      element.appendChild(option);
    });
    return element;
  }

  function setUp(country) {
    var block = document.getElementById(country.getAttribute("data-time-zones"));
    var form = country.form;
    var zone = form && form.elements.namedItem("time_zone");
    var shownFor = form && form.elements.namedItem("zone_country");
    if (!block || !zone || !shownFor) {
      return;
    }
    var data = JSON.parse(block.textContent);
    var empty = zone.querySelector('option[value=""]');
    var options = Array.prototype.filter.call(zone.querySelectorAll("option"), function (o) {
      return o.value !== "";
    });
    options.sort(inListOrder);

    function rebuild(zones) {
      zone.textContent = "";
      if (empty) {
        zone.appendChild(empty);
      }
      if (!zones.length) {
        options.forEach(function (option) {
          zone.appendChild(option);
        });
        return;
      }
      var name = country.options[country.selectedIndex].text;
      var first = zones
        .map(function (value) {
          return options.find(function (option) {
            return option.value === value;
          });
        })
        .filter(Boolean);
      var rest = options.filter(function (option) {
        return zones.indexOf(option.value) === -1;
      });
      zone.appendChild(group(data.country_group.replace("%(country)s", name), first));
      zone.appendChild(group(data.other_group, rest));
    }

    country.addEventListener("change", function () {
      var code = country.value;
      var entry = data.countries[code] || { zones: [], default: null };
      var chosen = zone.value;
      rebuild(entry.zones);
      if (entry.default) {
        zone.value = entry.default;
      } else if (entry.zones.length && entry.zones.indexOf(chosen) === -1) {
        zone.value = "";
      } else {
        zone.value = chosen;
      }
      shownFor.value = code;
    });
  }

  document.querySelectorAll("select[data-time-zones]").forEach(setUp);
})();
