/**
 * The demo shop: four server-rendered pages (home, search results, product, cart) whose beacon reports
 * page views, product views, searches, add-to-cart and checkout start to the collector.
 */
export interface DemoProduct {
  sku: string;
  name: string;
  price: string;
  blurb: string;
}

export const DEMO_PRODUCTS: readonly DemoProduct[] = [
  { sku: 'DEMO-SKU-001', name: 'Red mug', price: '12.50', blurb: 'Stoneware, 350 ml, keeps coffee hot through a stand-up.' },
  { sku: 'DEMO-SKU-002', name: 'Blue mug', price: '12.50', blurb: 'The red mug, calmer.' },
  { sku: 'DEMO-SKU-003', name: 'Espresso cups (2)', price: '18.00', blurb: 'Two small cups with saucers.' },
  { sku: 'DEMO-SKU-004', name: 'Pour-over kettle', price: '39.90', blurb: 'Gooseneck spout, 1 litre.' },
  { sku: 'DEMO-SKU-005', name: 'Coffee beans 1 kg', price: '24.00', blurb: 'Medium roast, single origin.' },
  { sku: 'DEMO-SKU-006', name: 'Tea sampler', price: '15.00', blurb: 'Twelve loose-leaf teas.' },
];

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function findProducts(query: string): DemoProduct[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  return DEMO_PRODUCTS.filter((p) => words.every((w) => `${p.name} ${p.blurb} ${p.sku}`.toLowerCase().includes(w)));
}

const STYLE = `
  body { font-family: system-ui, sans-serif; margin: 0; color: #222; }
  header { background: #1f3a5f; color: white; padding: 12px 24px; display: flex; gap: 24px; align-items: center; }
  header a { color: white; text-decoration: none; font-weight: 600; }
  header form { margin-left: auto; }
  main { padding: 24px; max-width: 900px; }
  .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 16px; }
  .card { border: 1px solid #ddd; border-radius: 8px; padding: 16px; }
  .card a { color: #1f3a5f; font-weight: 600; }
  button { background: #e07a1f; color: white; border: 0; border-radius: 6px; padding: 8px 16px; font-size: 1em; cursor: pointer; }
  .note { color: #666; font-size: 0.9em; }
  #status { margin-top: 16px; color: #1f7a3a; }
`;

function layout(title: string, content: string, bodyData: Record<string, string> = {}): string {
  const data = Object.entries(bodyData)
    .map(([k, v]) => ` data-${k}="${escapeHtml(v)}"`)
    .join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · SecureCart demo shop</title>
<style>${STYLE}</style>
</head>
<body${data}>
<header>
  <a href="/shop" id="home-link">SecureCart demo shop</a>
  <a href="/shop/cart" id="cart-link">Cart (<span id="cart-count">0</span>)</a>
  <form action="/shop/search" method="get" id="search-form">
    <input name="q" id="search-input" placeholder="Search products" aria-label="Search products">
    <button type="submit" id="search-button">Search</button>
  </form>
</header>
<main>
${content}
<p class="note">Every page view and click here is sent to the collector (<code>POST /v1/events</code>) and
published to Kafka; <code>npm start</code>'s terminal view counts them.</p>
</main>
<script>
  (function () {
    var cart = JSON.parse(localStorage.getItem('securecart.cart') || '[]');
    document.getElementById('cart-count').textContent = String(cart.length);
    document.addEventListener('click', function (ev) {
      var add = ev.target.closest && ev.target.closest('[data-track="ADD_TO_CART"]');
      if (!add) return;
      cart.push(add.dataset.sku);
      localStorage.setItem('securecart.cart', JSON.stringify(cart));
      document.getElementById('cart-count').textContent = String(cart.length);
      document.getElementById('status').textContent = 'Added to your cart.';
    });
  })();
</script>
<script src="/shop/beacon.js"></script>
</body>
</html>
`;
}

function productCards(products: readonly DemoProduct[]): string {
  if (products.length === 0) return '<p>No products found.</p>';
  return `<div class="grid">${products
    .map(
      (p) =>
        `<div class="card"><a href="/shop/products/${encodeURIComponent(p.sku)}" class="product-link" data-sku="${escapeHtml(p.sku)}">${escapeHtml(p.name)}</a><p>${escapeHtml(p.blurb)}</p><p>€${p.price}</p></div>`,
    )
    .join('')}</div>`;
}

export function homePage(): string {
  return layout('Home', `<h1>Welcome</h1>${productCards(DEMO_PRODUCTS)}`);
}

export function searchPage(query: string): string {
  return layout(`Search: ${query}`, `<h1>Results for “${escapeHtml(query)}”</h1>${productCards(findProducts(query))}`, { search: query });
}

export function productPage(product: DemoProduct): string {
  return layout(
    product.name,
    `<h1>${escapeHtml(product.name)}</h1><p>${escapeHtml(product.blurb)}</p><p>€${product.price}</p>
<button id="add-to-cart" data-track="ADD_TO_CART" data-sku="${escapeHtml(product.sku)}">Add to cart</button>
<div id="status"></div>`,
    { sku: product.sku },
  );
}

export function cartPage(): string {
  return layout(
    'Cart',
    `<h1>Your cart</h1><ul id="cart-items"></ul>
<button id="checkout" data-track="CHECKOUT_START">Checkout</button>
<div id="status"></div>
<script>
  (function () {
    var cart = JSON.parse(localStorage.getItem('securecart.cart') || '[]');
    document.getElementById('cart-items').innerHTML = cart.length ? '' : '<li>empty</li>';
    cart.forEach(function (sku) { var li = document.createElement('li'); li.textContent = sku; document.getElementById('cart-items').appendChild(li); });
    document.getElementById('checkout').addEventListener('click', function () {
      document.getElementById('status').textContent = 'Checkout started (this is a demo: nothing is ordered).';
    });
  })();
</script>`,
  );
}

export function notFoundPage(): string {
  return layout('Not found', '<h1>Not found</h1><p><a href="/shop">Back to the shop</a></p>');
}
