import { Controller, Get, Header, Param, Query, Redirect, Res } from '@nestjs/common';
import type { Response } from 'express';
import { BEACON_SCRIPT } from './beacon-script';
import { cartPage, DEMO_PRODUCTS, homePage, notFoundPage, productPage, searchPage } from './shop-pages';

const HTML = 'text/html; charset=utf-8';

/** The demo shop (`/shop`) and its beacon script; `/` leads there. */
@Controller()
export class ShopController {
  @Get()
  @Redirect('/shop', 302)
  root(): void {}

  @Get('shop')
  @Header('Content-Type', HTML)
  home(): string {
    return homePage();
  }

  @Get('shop/search')
  @Header('Content-Type', HTML)
  search(@Query('q') q: unknown): string {
    return searchPage(typeof q === 'string' ? q.slice(0, 200) : '');
  }

  @Get('shop/products/:sku')
  product(@Param('sku') sku: string, @Res() res: Response): void {
    const product = DEMO_PRODUCTS.find((p) => p.sku === sku);
    res.status(product ? 200 : 404).type(HTML).send(product ? productPage(product) : notFoundPage());
  }

  @Get('shop/cart')
  @Header('Content-Type', HTML)
  cart(): string {
    return cartPage();
  }

  @Get('shop/beacon.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  @Header('Cache-Control', 'no-cache')
  beacon(): string {
    return BEACON_SCRIPT;
  }
}
