// netcheck HTML report: links findings to the diagram, applies the filters, and writes a
// machine-readable summary of what the page shows into #netcheck-summary.
(function () {
  'use strict';
  var errors = [];
  window.addEventListener('error', function (e) {
    errors.push(String(e.message || e));
    writeSummary();
  });
  var data = JSON.parse(document.getElementById('netcheck-data').textContent);
  var svg = document.getElementById('diagram');
  var findings = Array.prototype.slice.call(document.querySelectorAll('li.finding'));
  var stepsByKey = {};
  var arrowsByKey = {};
  var selected = null;

  function push(map, key, el) {
    if (!key) { return; }
    (map[key] = map[key] || []).push(el);
  }
  svg.querySelectorAll('.step').forEach(function (g) { push(stepsByKey, g.dataset.key, g); });
  svg.querySelectorAll('.arrow').forEach(function (a) {
    push(arrowsByKey, a.dataset.from, a);
    push(arrowsByKey, a.dataset.to, a);
  });

  function keysOf(li) {
    return (li.dataset.evidence || '').split(' ').filter(Boolean);
  }

  function select(index, scroll) {
    document.querySelectorAll('.hl').forEach(function (el) { el.classList.remove('hl'); });
    findings.forEach(function (f) { f.classList.remove('selected'); });
    var li = findings[index];
    if (!li) { return; }
    selected = index;
    li.classList.add('selected');
    var first = null;
    keysOf(li).forEach(function (key) {
      (stepsByKey[key] || []).forEach(function (g) {
        g.classList.add('hl');
        if (!first) { first = g; }
      });
      (arrowsByKey[key] || []).forEach(function (a) { a.classList.add('hl'); });
    });
    li.querySelectorAll('.evidence li').forEach(function (e) {
      e.classList.toggle('drawn', Boolean(stepsByKey[e.dataset.key]));
    });
    svg.classList.toggle('focus', Boolean(first));
    if (first && scroll) { reveal(first); }
    if (window.history && history.replaceState) { history.replaceState(null, '', '#finding-' + index); }
    writeSummary();
  }

  // Scrolls the diagram (not the page) so that `el` is in view.
  function reveal(el) {
    var wrap = svg.parentNode;
    var target = el.getBoundingClientRect();
    var frame = wrap.getBoundingClientRect();
    wrap.scrollTop += target.top - frame.top - frame.height / 3;
    wrap.scrollLeft += Math.min(0, target.left - frame.left - 40);
  }

  findings.forEach(function (li, i) {
    li.addEventListener('click', function () { select(i, true); });
    li.addEventListener('keydown', function (e) { if (e.key === 'Enter') { select(i, true); } });
  });
  svg.querySelectorAll('.step.cited').forEach(function (g) {
    g.addEventListener('click', function () {
      var index = findings.findIndex(function (li) { return keysOf(li).indexOf(g.dataset.key) >= 0; });
      if (index >= 0) {
        select(index, false);
        findings[index].scrollIntoView({ block: 'nearest' });
      }
    });
  });

  function checked(selector) {
    var set = new Set();
    document.querySelectorAll(selector).forEach(function (box) { if (box.checked) { set.add(box.value); } });
    return set;
  }

  function applyFilters() {
    var hosts = checked('.host-filter');
    var classes = checked('.class-filter');
    var text = document.getElementById('finding-filter').value.toLowerCase();
    var conn = document.getElementById('conn-filter').value;
    document.querySelectorAll('.lane, .lane-head, .step').forEach(function (el) {
      var host = el.dataset.host;
      el.classList.toggle('filtered', host !== '' && host !== 'x' && !hosts.has(host));
    });
    svg.querySelectorAll('.arrow').forEach(function (a) {
      var ends = (stepsByKey[a.dataset.from] || []).concat(stepsByKey[a.dataset.to] || []);
      a.classList.toggle('filtered', ends.some(function (g) { return g.classList.contains('filtered'); }));
    });
    svg.querySelectorAll('.step, .arrow').forEach(function (el) {
      el.classList.toggle('dim', conn !== '' && el.dataset.conn !== conn);
    });
    findings.forEach(function (li) {
      var own = (li.dataset.hosts || '').split(' ').filter(Boolean);
      var hostOk = own.length === 0 || own.some(function (h) { return hosts.has(h); });
      var textOk = !text || li.textContent.toLowerCase().indexOf(text) >= 0;
      var connOk = conn === '' || keysOf(li).some(function (key) {
        return (stepsByKey[key] || []).some(function (g) { return g.dataset.conn === conn; });
      });
      li.hidden = !(hostOk && classes.has(li.dataset.class) && textOk && connOk);
    });
    writeSummary();
  }
  document.querySelectorAll('.host-filter, .class-filter').forEach(function (box) {
    box.addEventListener('change', applyFilters);
  });
  document.getElementById('conn-filter').addEventListener('change', applyFilters);
  document.getElementById('finding-filter').addEventListener('input', applyFilters);

  function box(el) {
    if (!el) { return null; }
    var r = el.getBoundingClientRect();
    return [Math.round(r.left), Math.round(r.top), Math.round(r.width), Math.round(r.height)];
  }

  function writeSummary() {
    var arrows = {};
    svg.querySelectorAll('.arrow').forEach(function (a) {
      arrows[a.dataset.kind] = (arrows[a.dataset.kind] || 0) + 1;
    });
    var summary = {
      lanes: svg.querySelectorAll('.lane').length,
      lane_names: Array.prototype.map.call(document.querySelectorAll('.lane-host'), function (t) { return t.textContent; }),
      lane_boxes: Array.prototype.map.call(document.querySelectorAll('.lane-host'), box),
      steps: svg.querySelectorAll('.step').length,
      dimmed_steps: svg.querySelectorAll('.step.dim').length,
      hidden_steps: svg.querySelectorAll('.step.filtered').length,
      deviations: svg.querySelectorAll('.step.deviation').length,
      arrows: arrows,
      aggregates: svg.querySelectorAll('.aggregate').length,
      findings: findings.length,
      findings_in_data: data.report.findings.length,
      linked: findings.map(function (li) {
        return keysOf(li).filter(function (key) { return stepsByKey[key]; }).length;
      }),
      visible_findings: findings.filter(function (li) { return !li.hidden; }).length,
      selected: selected,
      highlighted: svg.querySelectorAll('.step.hl').length,
      findings_box: box(document.getElementById('findings')),
      diagram_box: box(svg),
      images: document.querySelectorAll('img').length,
      scripts: document.querySelectorAll('script').length,
      errors: errors
    };
    document.getElementById('netcheck-summary').textContent = JSON.stringify(summary);
  }

  // The URL fragment opens a view: `#finding-N`, or filters such as
  // `#conn=t0&hosts=0,1&classes=network,info&q=text&finding=N`.
  function openFromFragment() {
    var fragment = window.location.hash.replace(/^#/, '');
    var single = /^finding-(\d+)$/.exec(fragment);
    if (single) { return Number(single[1]); }
    var params = new URLSearchParams(fragment);
    var setChecked = function (selector, list) {
      var keep = list.split(',');
      document.querySelectorAll(selector).forEach(function (b) { b.checked = keep.indexOf(b.value) >= 0; });
    };
    if (params.has('conn')) { document.getElementById('conn-filter').value = params.get('conn'); }
    if (params.has('hosts')) { setChecked('.host-filter', params.get('hosts')); }
    if (params.has('classes')) { setChecked('.class-filter', params.get('classes')); }
    if (params.has('q')) { document.getElementById('finding-filter').value = params.get('q'); }
    return params.has('finding') ? Number(params.get('finding')) : null;
  }

  var wanted = openFromFragment();
  if (wanted !== null) {
    select(wanted, true);
  }
  applyFilters();
})();
