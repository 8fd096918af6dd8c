// Draws every <div class="echart"> of the page with ECharts, from the option the server wrote
// into its data-option attribute (JSON). The server's extra keys sit under "hw":
//   unit: shown after each value in the tooltip;
//   lower, width: series indices of a p10 line and the p10–p90 width stacked on it, shown in
//   the tooltip as one range "p10–p90" instead of a width;
//   day_ticks: the category axis ("MM-DD HH:00") is labelled at midnights only, by date;
//   narrow_marks: shorter labels for the first series' horizontal mark lines, in order, used
//   where the chart is narrower than 500 px (a phone), so that they do not cover the data.
(function () {
  'use strict';
  function round(v) { return v == null || isNaN(v) ? null : Math.round(v); }
  function tooltip(hw) {
    return function (params) {
      var list = Array.isArray(params) ? params : [params];
      // Names come from the city's config and list: escaped, as ECharts leaves a formatter's HTML as is.
      var esc = echarts.format.encodeHTML;
      var out = list.length ? esc(String(list[0].axisValueLabel)) : '';
      list.forEach(function (p) {
        if (hw.lower !== undefined && p.seriesIndex === hw.lower) return;
        var v = p.value && typeof p.value === 'object' && !Array.isArray(p.value) ? p.value.value : p.value;
        var text;
        if (hw.width !== undefined && p.seriesIndex === hw.width) {
          var lo = list.filter(function (q) { return q.seriesIndex === hw.lower; })[0];
          text = lo && lo.value != null && v != null ? round(lo.value) + '–' + round(lo.value + v) : null;
        } else {
          text = round(v);
        }
        if (text == null) return;
        out += '<br>' + p.marker + esc(String(p.seriesName)) + ': ' + text + (hw.unit ? ' ' + esc(hw.unit) : '');
      });
      return out;
    };
  }
  function draw(el) {
    var option = JSON.parse(el.getAttribute('data-option'));
    var hw = option.hw || {};
    delete option.hw;
    if (option.tooltip) option.tooltip.formatter = tooltip(hw);
    if (hw.day_ticks && option.xAxis && option.xAxis.axisLabel) {
      option.xAxis.axisLabel.interval = function (i, v) { return / 00:00$/.test(v); };
      option.xAxis.axisLabel.formatter = function (v) { return v.slice(0, 5); };
      option.xAxis.axisTick = { interval: option.xAxis.axisLabel.interval };
    }
    if (hw.narrow_marks && el.clientWidth < 500 && option.series && option.series[0].markLine) {
      var k = 0;
      option.series[0].markLine.data.forEach(function (m) {
        if (m.yAxis !== undefined && k < hw.narrow_marks.length) m.label.formatter = hw.narrow_marks[k++];
      });
    }
    var chart = echarts.init(el, null, { renderer: 'svg' });
    chart.setOption(option);
    window.addEventListener('resize', function () { chart.resize(); });
    el.setAttribute('data-drawn', 'true');
  }
  document.querySelectorAll('.echart').forEach(draw);
})();
